import { readFileSync } from 'node:fs';
import type { AddressSpace } from '../../../../src/memory/index.js';

/** One recorded qtest exchange: the command QEMU got and its answer. */
export interface Exchange {
  cmd: string;
  answer: string;
}

/** Reads a '> command' / '< answer' transcript (header lines start with '#'). */
export function loadTranscript(path: string): Exchange[] {
  const out: Exchange[] = [];
  let cmd: string | undefined;
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (line.startsWith('> ')) cmd = line.slice(2);
    else if (line.startsWith('< ') && cmd !== undefined) {
      out.push({ cmd, answer: line.slice(2) });
      cmd = undefined;
    }
  }
  return out;
}

const SIZES: Record<string, number> = { b: 1, w: 2, l: 4, q: 8 };

/**
 * A small qtest command interpreter over viommu address spaces, for the
 * commands the fw_cfg transcripts use, answering in QEMU's formats
 * (qtest.c: in* "OK 0x%04x", read* "OK 0x%016x", read "OK 0x<hex>"). The
 * target is little-endian, as x86 and aarch64 are.
 */
export function runQtest(cmd: string, mem: AddressSpace, io: AddressSpace | undefined): string {
  const w = cmd.split(' ');
  const op = w[0]!;
  const num = (s: string): bigint => BigInt(s);
  const m = /^(in|out|read|write)([bwlq])$/.exec(op);
  if (m) {
    const size = SIZES[m[2]!]!;
    const as = m[1] === 'in' || m[1] === 'out' ? io! : mem;
    const addr = Number(num(w[1]!));
    if (m[1] === 'in' || m[1] === 'read') {
      const r = as.read(addr, size);
      const v = (BigInt(r.hi) << 32n) | BigInt(r.lo);
      return m[1] === 'in' ? `OK 0x${v.toString(16).padStart(4, '0')}` : `OK 0x${v.toString(16).padStart(16, '0')}`;
    }
    const v = BigInt.asUintN(size * 8, num(w[2]!));
    as.write(addr, size, Number(v & 0xffff_ffffn), Number(v >> 32n));
    return 'OK';
  }
  if (op === 'write') {
    const len = Number(num(w[2]!));
    const hex = w[3]!.slice(2).padEnd(len * 2, '0');
    mem.writeBytes(Number(num(w[1]!)), Uint8Array.from(Buffer.from(hex, 'hex')));
    return 'OK';
  }
  if (op === 'read') {
    const buf = new Uint8Array(Number(num(w[2]!)));
    mem.readBytes(Number(num(w[1]!)), buf);
    return `OK 0x${Buffer.from(buf).toString('hex')}`;
  }
  throw new Error(`qtest-replay: unsupported command '${cmd}'`);
}

/** The file directory in a transcript's full directory read (be32 count, 64-byte entries). */
export function directoryIn(transcript: Exchange[]): { name: string; size: number; select: number }[] {
  const x = transcript.find((e) => /^read 0x[0-9a-f]+ 0x804$/.test(e.cmd));
  if (!x) throw new Error('no directory read in transcript');
  const d = Buffer.from(x.answer.slice(5), 'hex');
  const n = d.readUInt32BE(0);
  const out = [];
  for (let i = 0; i < n; i++) {
    const e = d.subarray(4 + 64 * i, 68 + 64 * i);
    out.push({ size: e.readUInt32BE(0), select: e.readUInt16BE(4), name: e.subarray(8).toString('latin1').replace(/\0+$/, '') });
  }
  return out;
}
