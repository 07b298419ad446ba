import type { GuestDevice } from '../../../guest/device.js';
import type { DmaDirection } from '../../../guest/dma-ops.js';
import type { PCIDevice } from '../../../pci/device.js';
import type { MachineContext } from '../harness.js';
import { findRegion, type MachineLayout } from '../layout.js';
import { big, hex64, num, u32, type FuzzRng } from '../rng.js';
import type { Op } from '../types.js';

/**
 * The CPU-side ops every machine target shares: MMIO writes and reads by
 * region name and offset ('w', 'r'), PCI config-space writes by function
 * index ('cfg'), port I/O ('io'), letting virtual time pass ('wait'), and
 * an edu DMA the fuzzer programs itself ('edu': the way to make a device
 * translate through whatever tables the other ops left).
 */
export const SIZES = [1, 2, 4, 8] as const;
const EDU_DMA_DELAY_NS = 101_000_000;

function offsetIn(rng: FuzzRng, size: number): number {
  const c = rng.below(4);
  if (c < 2) return rng.below(Math.min(size, 0x100)) & ~3;
  if (c < 3) return rng.below(Math.min(size, 0x1000)) & ~3;
  return rng.below(size);
}

export function randomRegisterOp(rng: FuzzRng, layout: MachineLayout, prefer?: (name: string) => boolean): Op {
  const c = rng.below(20);
  const mmio = prefer ? layout.mmio.filter((r) => prefer(r.name)) : layout.mmio;
  if (c < 9 && mmio.length > 0) {
    const r = rng.pick(mmio);
    const s = rng.pick(SIZES);
    return { k: 'w', r: r.name, o: offsetIn(rng, r.size), s, v: hex64(rng.value64()) };
  }
  if (c < 11 && mmio.length > 0) {
    const r = rng.pick(mmio);
    return { k: 'r', r: r.name, o: offsetIn(rng, r.size), s: rng.pick(SIZES) };
  }
  if (c < 16 && layout.pci.length > 0) {
    const o = rng.chance(0.7) ? rng.below(0x100) : rng.below(0x1000);
    return { k: 'cfg', d: rng.below(layout.pci.length), o, s: rng.pick([1, 2, 4] as const), v: rng.value32() };
  }
  if (c < 17 && layout.io.length > 0) {
    const r = rng.pick(layout.io);
    return { k: 'io', p: r.base + rng.below(Math.min(r.size, 0x40)), s: rng.pick([1, 2, 4] as const), v: rng.value32() };
  }
  if (c < 18) return { k: 'wait', ns: rng.below(OP_WAIT_MAX) };
  return randomGuestOp(rng);
}

/**
 * Ops of the guest itself, which keep the guest's view of its mappings
 * true: DMA API map/unmap for an edu device ('map', 'unmap') and edu DMA
 * to an IOVA, often one the guest mapped ('edu': m picks a live mapping).
 */
export function randomGuestOp(rng: FuzzRng): Op {
  const c = rng.below(4);
  if (c === 0) return { k: 'map', d: rng.below(3), n: 1 + rng.below(3 * 4096), dir: rng.below(3) };
  if (c === 1) return { k: 'unmap', m: rng.below(4) };
  const common = { k: 'edu', d: rng.below(3), off2: rng.below(4096), n: rng.value32(rng.below(4096)), dir: rng.below(2) };
  return rng.chance(0.5) ? { ...common, m: rng.below(4), off: rng.below(8192) } : { ...common, iova: hex64(rng.value64(rng.chance(0.5) ? 0x0fff_f000n : 0x1000n)) };
}

const OP_WAIT_MAX = 10_000_000;

/** A field-level change of a shared op; undefined for an op kind that is not one of these. */
export function mutateRegisterOp(rng: FuzzRng, op: Op): Op | undefined {
  switch (op.k) {
    case 'w': return rng.chance(0.6) ? { ...op, v: hex64(rng.value64(big(op['v']))) } : { ...op, o: u32(rng.value32(num(op['o']))) & 0xfffff, s: rng.pick(SIZES) };
    case 'r': return { ...op, o: (num(op['o']) + rng.range(-8, 8)) >>> 0 & 0xfffff };
    case 'cfg': return rng.chance(0.6) ? { ...op, v: rng.value32(u32(op['v'])) } : { ...op, o: (num(op['o']) + rng.range(-4, 4)) & 0xfff };
    case 'io': return { ...op, v: rng.value32(u32(op['v'])) };
    case 'wait': return { ...op, ns: rng.below(OP_WAIT_MAX) };
    case 'edu': return rng.chance(0.5) ? { ...op, n: rng.value32(num(op['n'])) } : { ...op, off: rng.value32(num(op['off'])), dir: rng.below(2) };
    case 'map': return { ...op, n: rng.value32(num(op['n'])) };
    default: return undefined;
  }
}

function edus(ctx: MachineContext): PCIDevice[] {
  return ctx.machine.pciDevices().filter((d) => d.typeName === 'edu');
}

const DIRS: readonly DmaDirection[] = ['bidirectional', 'to-device', 'from-device'];

function guestEdus(ctx: MachineContext): GuestDevice[] {
  return ctx.kernel.devices.filter((d) => d.driver === 'edu');
}

/** Ops the guest itself does (the DMA oracle's view of mappings stays true under them). */
export const GUEST_OP_KINDS: ReadonlySet<string> = new Set(['map', 'unmap', 'edu', 'wait', 'r']);
/** Live mappings a run may hold (the rest of a 'map' is refused). */
const MAX_LIVE_MAPPINGS = 16;

/** Runs a shared op; false when `op.k` is not one of them. */
export function execRegisterOp(ctx: MachineContext, op: Op): boolean {
  const m = ctx.machine;
  switch (op.k) {
    case 'w':
    case 'r': {
      const r = findRegion(m.systemAs.view, String(op['r']));
      if (!r) {
        ctx.feature(`absent:${String(op['r'])}`);
        return true;
      }
      const s = SIZES.includes(num(op['s']) as 1) ? num(op['s']) : 4;
      const a = r.base + (num(op['o']) % Math.max(1, r.size));
      if (op.k === 'w') {
        const v = big(op['v']);
        m.systemAs.write(a, s, Number(v & 0xffff_ffffn), Number(v >> 32n));
        ctx.feature(`w:${r.name}:${(a - r.base) >> 2}`);
      } else {
        const res = m.systemAs.read(a, s);
        ctx.feature(`r:${r.name}:${(a - r.base) >> 2}:${res.lo === 0 ? 0 : res.lo === -1 || res.lo === 0xffffffff ? 'f' : 'x'}`);
      }
      return true;
    }
    case 'cfg': {
      const devs = m.pciDevices();
      const d = devs[num(op['d']) % Math.max(1, devs.length)];
      if (!d) return true;
      const s = [1, 2, 4].includes(num(op['s'])) ? num(op['s']) : 4;
      const o = num(op['o']) & 0xfff & ~(s - 1);
      d.configWrite(o, u32(op['v']), s);
      ctx.feature(`cfg:${d.typeName}:${o}`);
      return true;
    }
    case 'io': {
      const s = [1, 2, 4].includes(num(op['s'])) ? num(op['s']) : 1;
      m.ioAs.write(num(op['p']) & 0xffff, s, u32(op['v']));
      ctx.feature(`io:${num(op['p']) & 0xffff}`);
      return true;
    }
    case 'wait':
      m.clock.advanceTo(m.clock.now + Math.min(num(op['ns']), OP_WAIT_MAX));
      return true;
    case 'map': {
      const devs = guestEdus(ctx);
      const dev = devs[num(op['d']) % Math.max(1, devs.length)];
      if (!dev || ctx.mappings.length >= MAX_LIVE_MAPPINGS) return true;
      const size = Math.min(Math.max(1, num(op['n'])), 4 * 4096);
      const paddr = ctx.kernel.mem.alloc(size);
      if (paddr === undefined) return true;
      const dir = DIRS[num(op['dir']) % 3]!;
      const iova = ctx.kernel.dma.mapSingle(dev, paddr, size, dir);
      ctx.mappings.push({ dev, paddr, iova, size, dir });
      ctx.feature(`map:${iova < 0 ? 'err' : 'ok'}`);
      return true;
    }
    case 'unmap': {
      if (ctx.mappings.length === 0) return true;
      const [x] = ctx.mappings.splice(num(op['m']) % ctx.mappings.length, 1);
      if (x!.iova >= 0) ctx.kernel.dma.unmapSingle(x!.dev, x!.iova, x!.size, x!.dir);
      ctx.kernel.mem.freePages(x!.paddr, x!.size);
      return true;
    }
    case 'edu': {
      const list = edus(ctx);
      const dev = list[num(op['d']) % Math.max(1, list.length)];
      if (!dev) return true;
      const k = list.indexOf(dev);
      const r = findRegion(m.systemAs.view, k === 0 ? 'edu-mmio' : `edu-mmio#${k}`);
      if (!r) return true;
      const w64 = (off: number, v: bigint) => m.systemAs.write(r.base + off, 8, Number(v & 0xffff_ffffn), Number(v >> 32n));
      const live = op['m'] !== undefined && ctx.mappings.length > 0 ? ctx.mappings[num(op['m']) % ctx.mappings.length] : undefined;
      const iova = live ? BigInt(Math.max(0, live.iova) + num(op['off'])) : big(op['iova']);
      const buf = 0x40000n + BigInt(num(op['off2']) & 0xfff);
      const toDevice = (num(op['dir']) & 1) === 0;
      w64(0x80, toDevice ? iova : buf);
      w64(0x88, toDevice ? buf : iova);
      w64(0x90, BigInt(u32(op['n'])));
      w64(0x98, 1n | (toDevice ? 0n : 2n));
      m.clock.advanceTo(m.clock.now + EDU_DMA_DELAY_NS);
      ctx.feature(`edu:${m.systemAs.read(r.base + 0x98, 4).lo & 1}`);
      return true;
    }
    default:
      return false;
  }
}
