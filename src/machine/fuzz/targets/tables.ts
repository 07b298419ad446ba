import type { MachineContext } from '../harness.js';
import { big, hex64, num, type FuzzRng } from '../rng.js';
import type { Op } from '../types.js';

/** Table pages the walk collects at most (root, context/stream tables, CDs, page tables). */
const MAX_PAGES = 48;
const PAGE = 4096;
/** Address bits of a table pointer: [51:12] (VT-d 9.1-9.3, SMMUv3 5.2/5.4, VMSAv8-64 descriptors). */
const ADDR_MASK = 0x000f_ffff_ffff_f000n;

/**
 * IOMMU table pages in guest RAM, found by following every qword that
 * looks like a present pointer into RAM from the roots a vIOMMU's
 * registers give (generic on purpose: the fuzzer must reach what the guest
 * built, whatever the format). Ops name pages by index in this list.
 */
export interface TablePages {
  readonly pages: readonly number[];
  readonly ram: readonly { base: number; size: number }[];
}

function inRam(ram: TablePages['ram'], a: number): boolean {
  return ram.some((r) => a >= r.base && a + PAGE <= r.base + r.size);
}

export function collectTablePages(ctx: MachineContext, roots: readonly { addr: number; bytes: number }[]): TablePages {
  const ram = ctx.machine.board.ram.map((r) => ({ base: r.base, size: r.size }));
  const pages: number[] = [];
  const seen = new Set<number>();
  const add = (a: number): void => {
    const p = a - (a % PAGE);
    if (pages.length < MAX_PAGES && !seen.has(p) && inRam(ram, p)) {
      seen.add(p);
      pages.push(p);
    }
  };
  for (const r of roots) for (let o = 0; o < Math.min(r.bytes, 16 * PAGE); o += PAGE) add(r.addr + o);
  const buf = new Uint8Array(PAGE);
  const dv = new DataView(buf.buffer);
  for (let i = 0; i < pages.length && pages.length < MAX_PAGES; i++) {
    ctx.port.readBytes(pages[i]!, buf);
    for (let q = 0; q < PAGE / 8; q++) {
      const lo = dv.getUint32(q * 8, true);
      const hi = dv.getUint32(q * 8 + 4, true);
      if ((lo & 3) === 0) continue;
      const a = Number(((BigInt(hi) << 32n) | BigInt(lo)) & ADDR_MASK);
      if (a !== 0) add(a);
    }
  }
  return { pages, ram };
}

/** Pointers outside RAM, to MMIO (VT-d, MSI window), or past the address width, with present bits set. */
const WILD_POINTERS: readonly bigint[] = [0x000f_ffff_f003n, 0xffff_ffff_f003n, (1n << 51n) | 3n, 0xfee0_0003n, 0xfed9_0003n];

/**
 * A 'poke' op (write a qword of a table page: random, a loop to a table
 * page, itself included, or a pointer outside RAM) or a 'flip' op (toggle
 * one bit of what is there).
 */
export function randomTableOp(rng: FuzzRng, maxPages: number): Op {
  const pg = rng.below(maxPages);
  const q = rng.chance(0.5) ? rng.below(8) : rng.below(512);
  const c = rng.below(10);
  if (c < 4) return { k: 'flip', pg, q, b: rng.below(64) };
  if (c < 6) return { k: 'poke', pg, q, to: rng.below(maxPages), f: rng.pick([1, 3, 7, 0x403]) };
  if (c < 7) return { k: 'poke', pg, q, v: hex64(rng.pick(WILD_POINTERS)) };
  return { k: 'poke', pg, q, v: hex64(rng.value64()) };
}

export function mutateTableOp(rng: FuzzRng, op: Op, maxPages: number): Op | undefined {
  if (op.k === 'flip') return { ...op, b: rng.below(64) };
  if (op.k === 'poke') return rng.chance(0.5) ? { ...op, q: (num(op['q']) + rng.range(-2, 2)) & 511 } : randomTableOp(rng, maxPages);
  return undefined;
}

/** Runs 'poke' / 'flip'; false for other ops. */
export function execTableOp(ctx: MachineContext, t: TablePages, op: Op): boolean {
  if (op.k !== 'poke' && op.k !== 'flip') return false;
  if (t.pages.length === 0) return true;
  const page = t.pages[num(op['pg']) % t.pages.length]!;
  const a = page + (num(op['q']) & 511) * 8;
  let v: bigint;
  if (op.k === 'flip') {
    const r = ctx.port.read(a, 8);
    v = ((BigInt(r.hi) << 32n) | BigInt(r.lo)) ^ (1n << BigInt(num(op['b']) & 63));
  } else if (op['to'] !== undefined) {
    v = BigInt(t.pages[num(op['to']) % t.pages.length]!) | BigInt(num(op['f']) & 0xfff);
  } else {
    v = big(op['v']);
  }
  ctx.port.write(a, 8, Number(v & 0xffff_ffffn), Number(v >> 32n));
  ctx.feature(`${op.k}:${num(op['pg']) % t.pages.length === 0 ? 'root' : 'table'}:${(num(op['q']) & 511) < 8 ? 'low' : 'high'}`);
  return true;
}
