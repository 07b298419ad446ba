import { parseCInteger } from '../properties.js';

/** A bad qtest argument: answered "ERR <message>", and the server stays up. */
export class QtestArgError extends Error {
  override readonly name = 'QtestArgError';
}

const U64 = 1n << 64n;

/** The word at `i`, or an error naming what is missing (QEMU asserts there). */
export function word(words: readonly string[], i: number, what: string): string {
  const w = words[i];
  if (w === undefined) throw new QtestArgError(`${words[0]}: missing ${what}`);
  return w;
}

/** Words longer than this are checked for range before BigInt parses them (BigInt's decimal parse is quadratic). */
const SHORT_WORD = 64;
/** Significant digits a 64-bit value can have in any base (22 octal digits). */
const MAX_DIGITS = 22;

/**
 * parseCInteger for a word of any length in linear time: leading zeros are
 * dropped (strtoull takes any number of them), and more significant digits
 * than a 64-bit value can have is out of range without parsing them.
 */
function parseWord(s: string): bigint | undefined {
  if (s.length <= SHORT_WORD) return parseCInteger(s);
  const m = /^(\s*[+-]?)(0[xX])?(0*)([0-9a-zA-Z]*)$/.exec(s);
  if (!m || m[4]!.length > MAX_DIGITS) return undefined;
  const prefix = m[2] ?? (m[3] ? '0' : '');
  return parseCInteger(`${m[1]}${prefix}${m[4] || (m[2] ? '0' : '')}`);
}

/** The word as an error message quotes it (long words shortened). */
function quote(s: string): string {
  return s.length <= SHORT_WORD ? s : `${s.slice(0, SHORT_WORD)}... (${s.length} characters)`;
}

/** qemu_strtou64(s, NULL, 0): the whole word, base 0; a negative value wraps. */
export function u64(words: readonly string[], i: number, what: string): bigint {
  const s = word(words, i, what);
  const v = parseWord(s);
  if (v === undefined || v >= U64 || v <= -U64) throw new QtestArgError(`${words[0]}: bad ${what} '${quote(s)}'`);
  return BigInt.asUintN(64, v);
}

/** qemu_strtoi64(s, NULL, 0). */
export function i64(words: readonly string[], i: number, what: string): bigint {
  const s = word(words, i, what);
  const v = parseWord(s);
  if (v === undefined || v >= 1n << 63n || v < -(1n << 63n)) throw new QtestArgError(`${words[0]}: bad ${what} '${quote(s)}'`);
  return v;
}

/** A 64-bit address as a number when it is exact, else a bigint. */
export function addr(v: bigint): number | bigint {
  return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

/** Byte swap of a `size`-byte value held as a bigint (tswap on a big-endian target). */
export function bswap(v: bigint, size: number): bigint {
  let out = 0n;
  for (let i = 0; i < size; i++) out = (out << 8n) | ((v >> BigInt(8 * i)) & 0xffn);
  return out;
}

/** hex2nib: -1 for a non-hex character, as QEMU's qtest does. */
export function hex2nib(c: string | undefined): number {
  if (c === undefined) return -1;
  const n = parseInt(c, 16);
  return Number.isNaN(n) || !/[0-9a-fA-F]/.test(c) ? -1 : n;
}
