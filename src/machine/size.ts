/**
 * QEMU's size parsing (util/cutils.c do_strtosz, as in QEMU 7.2): a
 * decimal integer, or a decimal fraction with a suffix, or hex; an optional
 * suffix B, K, M, G, T, P, E (either case, powers of 1024); without a
 * suffix the caller's default applies (bytes for properties, MiB for -m).
 * Returns a bigint (sizes reach 2^64) or undefined when the text is not a
 * size. `hexWithSuffix` reports QEMU's deprecated hex-with-multiplier form.
 */
export interface ParsedSize {
  readonly value: bigint;
  /** True when a hex number was scaled by the default suffix (QEMU warns). */
  readonly hexScaled: boolean;
}

const SUFFIXES = 'BKMGTPE';

function suffixMul(c: string): bigint {
  const i = SUFFIXES.indexOf(c.toUpperCase());
  return i < 0 || c === '' ? 0n : 1024n ** BigInt(i);
}

const U64_MAX = (1n << 64n) - 1n;

export function parseSize(text: string, defaultSuffix: 'B' | 'M' = 'B'): ParsedSize | undefined {
  let m = /^(\d+)(.*)$/s.exec(text);
  if (!m) return undefined;
  let val = BigInt(m[1]!);
  let rest = m[2]!;
  let frac = 0;
  let hexScaled = false;
  if (val === 0n && /^[xX]/.test(rest)) {
    m = /^0[xX]([0-9a-fA-F]+)(.*)$/s.exec(text);
    if (!m) return undefined;
    val = BigInt('0x' + m[1]!);
    rest = m[2]!;
    if (rest.startsWith('.')) return undefined;
    if (rest === '' && defaultSuffix !== 'B') hexScaled = true;
    else if (rest !== '' && suffixMul(rest[0]!)) return undefined;
  } else if (rest.startsWith('.')) {
    const f = /^\.(\d*)(.*)$/s.exec(rest)!;
    if (/^[eE]/.test(f[2]!) && f[1] !== '') return undefined;
    frac = Number('0.' + (f[1] || '0'));
    rest = f[2]!;
  }
  let mul = rest !== '' ? suffixMul(rest[0]!) : 0n;
  if (mul > 0n) rest = rest.slice(1);
  else mul = suffixMul(defaultSuffix);
  if (rest !== '') return undefined;
  if (mul === 1n && frac !== 0) return undefined;
  // 64.64 fixed point times the multiplier, rounding half up (QEMU's mulu64 dance).
  const fracFixed = BigInt(Math.floor(frac * 2 ** 53)) << 11n;
  const total = val * mul + ((fracFixed * mul + (1n << 63n)) >> 64n);
  if (total > U64_MAX) return undefined;
  return { value: total, hexScaled };
}

/** The text QEMU prints for a bad -m size. */
export const SIZE_ERROR_HINT = "Parameter 'size' expects a non-negative number below 2^64\n"
  + 'Optional suffix k, M, G, T, P or E means kilo-, mega-, giga-, tera-, peta-\n'
  + 'and exabytes, respectively.';
