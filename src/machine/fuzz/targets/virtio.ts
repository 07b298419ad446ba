import { VirtioIommuPci } from '../../../virtio/iommu/virtio-iommu-pci.js';
import type { VirtQueue } from '../../../virtio/virtqueue.js';
import { OracleFailure, type MachineContext } from '../harness.js';
import { findRegion } from '../layout.js';
import { big, hex64, num, u32, type FuzzRng } from '../rng.js';
import type { FuzzTarget, Op, Variant } from '../types.js';
import { machineTarget } from './machine-target.js';

const EDU = ['-device', 'edu', '-device', 'pcie-root-port,id=rp1,chassis=1', '-device', 'edu,bus=rp1'];
const VARIANTS: readonly Variant[] = [
  { name: 'q35-virtio-iommu', args: ['-M', 'q35', '-device', 'virtio-iommu-pci', ...EDU] },
  { name: 'q35-virtio-iommu-caps', args: ['-M', 'q35', '-device', 'virtio-iommu-pci,x-max-mappings=16,x-max-domains=4', ...EDU] },
  { name: 'virt-virtio-iommu-compat', args: ['-M', 'virt', '-device', 'virtio-iommu-pci,x-qemu-compat=on', ...EDU] },
];

/** Request types (virtio 1.2 5.13.6): ATTACH 1, DETACH 2, MAP 3, UNMAP 4, PROBE 5. */
const TYPES = [1, 2, 3, 4, 5, 0, 6, 0xff];
/** Descriptor flags (2.7.5): NEXT 1, WRITE 2, INDIRECT 4. */
const DESC_FLAGS = [0, 1, 2, 3, 4, 5, 6, 7];
const SCRATCH = 3 * 4096;

function endpoint(rng: FuzzRng): number {
  return rng.chance(0.7) ? rng.pick([0x8, 0x10, 0x18, 0x100, 0x0, 0xf8, 0xfa]) : rng.value32();
}

function randomRequest(rng: FuzzRng): Op {
  const t = rng.pick(TYPES);
  const vs = rng.chance(0.6) ? BigInt(rng.below(64)) * 0x1000n : rng.value64();
  const ve = rng.chance(0.6) ? vs + BigInt(rng.below(16) + 1) * 0x1000n - 1n : rng.value64();
  return {
    k: 'req', t, dom: rng.chance(0.8) ? rng.below(8) : rng.value32(), ep: endpoint(rng), flags: rng.chance(0.7) ? rng.below(8) : rng.value32(),
    vs: hex64(vs), ve: hex64(ve), ps: hex64(rng.chance(0.7) ? BigInt(0x10_0000 + rng.below(256) * 4096) : rng.value64()),
    outAdj: rng.chance(0.8) ? 0 : rng.range(-12, 12), inLen: rng.chance(0.8) ? (t === 5 ? 516 : 4) : rng.value32(64),
  };
}

export function randomRingOp(rng: FuzzRng): Op {
  if (rng.chance(0.6)) {
    return {
      k: 'desc', i: rng.value32(rng.below(8)), addr: hex64(rng.chance(0.5) ? BigInt(rng.below(SCRATCH)) : rng.value64()), len: rng.value32(64),
      flags: rng.pick(DESC_FLAGS), next: rng.chance(0.5) ? rng.below(8) : rng.value32(), push: rng.chance(0.7),
    };
  }
  return { k: 'avail', delta: rng.pick([1, 2, 0x100, 0x7fff, 0x8000, 0xffff]) };
}

interface VirtioState {
  readonly dev: VirtioIommuPci | undefined;
  /** Scratch RAM for requests and descriptor targets. */
  readonly scratch: number;
}

function requestq(s: VirtioState): VirtQueue | undefined {
  const q = s.dev?.device.requestq;
  return q && q.ready ? q : undefined;
}

function wr(ctx: MachineContext, a: number, size: number, v: number | bigint): void {
  const b = BigInt.asUintN(64, BigInt(v));
  ctx.machine.systemAs.write(a, size, Number(b & 0xffff_ffffn), Number(b >> 32n));
}

/** Writes descriptor i (16 bytes: addr, len, flags, next; 2.7.5). */
export function writeDesc(ctx: MachineContext, q: VirtQueue, i: number, addr: bigint, len: number, flags: number, next: number): void {
  const a = q.descAddr + (i % q.size) * 16;
  wr(ctx, a, 8, addr);
  wr(ctx, a + 8, 4, len >>> 0);
  wr(ctx, a + 12, 2, flags & 0xffff);
  wr(ctx, a + 14, 2, next & 0xffff);
}

/** Puts head on the avail ring (2.7.6: flags u16, idx u16, ring[size]) and notifies the queue (virtio-pci notify + 4n). */
export function pushAndNotify(ctx: MachineContext, q: VirtQueue, head: number | undefined, delta = 1, device = 'virtio-iommu'): void {
  const idx = ctx.machine.systemAs.read(q.availAddr + 2, 2).lo & 0xffff;
  if (head !== undefined) wr(ctx, q.availAddr + 4 + (idx % q.size) * 2, 2, head);
  wr(ctx, q.availAddr + 2, 2, (idx + delta) & 0xffff);
  const n = findRegion(ctx.machine.systemAs.view, `virtio-pci-notify-${device}`);
  if (n) wr(ctx, n.base + 4 * q.index, 2, q.index);
}

/** Builds a request (head, body, tail) in scratch RAM and posts it as an out + in descriptor chain. */
function execRequest(ctx: MachineContext, s: VirtioState, op: Op): void {
  const q = requestq(s);
  if (!q) return;
  const t = u32(op['t']) & 0xff;
  const body = new DataView(new ArrayBuffer(80));
  body.setUint8(0, t);
  let len = 4;
  if (t === 1 || t === 2) {
    body.setUint32(4, u32(op['dom']), true); body.setUint32(8, u32(op['ep']), true); body.setUint32(12, u32(op['flags']), true);
    len = 20;
  } else if (t === 3) {
    body.setUint32(4, u32(op['dom']), true); body.setBigUint64(8, big(op['vs']), true); body.setBigUint64(16, big(op['ve']), true);
    body.setBigUint64(24, big(op['ps']), true); body.setUint32(32, u32(op['flags']), true);
    len = 36;
  } else if (t === 4) {
    body.setUint32(4, u32(op['dom']), true); body.setBigUint64(8, big(op['vs']), true); body.setBigUint64(16, big(op['ve']), true);
    len = 28;
  } else if (t === 5) {
    body.setUint32(4, u32(op['ep']), true);
    len = 72;
  }
  len = Math.max(0, Math.min(80, len + Math.trunc(Number(op['outAdj'] ?? 0))));
  const inLen = Math.min(num(op['inLen']), 2048);
  ctx.port.writeBytes(s.scratch, new Uint8Array(body.buffer, 0, len));
  const inAddr = s.scratch + 2048;
  ctx.port.writeBytes(inAddr, new Uint8Array(Math.max(inLen, 1)).fill(0xee));
  const head = q.size - 2;
  if (len > 0) writeDesc(ctx, q, head, BigInt(s.scratch), len, 1, head + 1);
  writeDesc(ctx, q, len > 0 ? head + 1 : head, BigInt(inAddr), inLen, 2, 0);
  const usedBefore = q.usedIdx;
  pushAndNotify(ctx, q, head);
  const status = inLen >= 4 ? ctx.machine.systemAs.read(inAddr + inLen - 4, 1).lo & 0xff : -1;
  ctx.feature(`req:${t}:${q.usedIdx !== usedBefore ? status : 'none'}`);
}

/** virtio-iommu over its virtqueue: well-formed and malformed requests, corrupted descriptors (loops, indirect, out-of-RAM), avail index jumps. */
export function virtioTarget(): FuzzTarget {
  return machineTarget<VirtioState>({
    name: 'virtio',
    summary: 'virtio rings and virtio-iommu requests: ATTACH/DETACH/MAP/UNMAP/PROBE with hostile fields, corrupted descriptors, avail jumps',
    variants: VARIANTS,
    preferRegion: (n) => n.startsWith('virtio-pci') || n.startsWith('edu-mmio'),
    randomOp: (rng) => (rng.chance(0.55) ? randomRequest(rng) : rng.chance(0.6) ? randomRingOp(rng) : undefined),
    mutateOp: (rng, op) => {
      if (op.k === 'req') return rng.chance(0.5) ? { ...op, vs: hex64(rng.value64(big(op['vs']))) } : { ...op, dom: rng.value32(u32(op['dom'])), ep: endpoint(rng) };
      if (op.k === 'desc') return { ...op, len: rng.value32(u32(op['len'])), next: rng.value32(u32(op['next'])) };
      return undefined;
    },
    setup: (ctx) => {
      const dev = ctx.machine.pciDevices().find((d): d is VirtioIommuPci => d instanceof VirtioIommuPci);
      return { dev, scratch: ctx.kernel.mem.alloc(SCRATCH) ?? 0x20_0000 };
    },
    exec: (ctx, s, op) => {
      if (op.k === 'req') execRequest(ctx, s, op);
      else if (op.k === 'desc' || op.k === 'avail') {
        const q = requestq(s);
        if (!q) return true;
        if (op.k === 'desc') {
          const a = big(op['addr']);
          writeDesc(ctx, q, num(op['i']), a < BigInt(SCRATCH) ? BigInt(s.scratch) + a : a, u32(op['len']), u32(op['flags']), u32(op['next']));
          pushAndNotify(ctx, q, op['push'] ? num(op['i']) % q.size : undefined, op['push'] ? 1 : 0);
        } else {
          pushAndNotify(ctx, q, undefined, num(op['delta']));
        }
        ctx.feature(`${op.k}:used=${q.usedIdx - q.lastAvailIdx}:broken=${((s.dev?.device.status ?? 0) & 0x40) !== 0}`);
      } else return false;
      const core = s.dev?.device.core;
      if (core && (core.mappingCount > core.opts.maxMappings || core.domains.size > core.opts.maxDomains)) {
        throw new OracleFailure({ kind: 'resource', message: `virtio-iommu cap exceeded: ${core.mappingCount} mappings (cap ${core.opts.maxMappings}), ${core.domains.size} domains (cap ${core.opts.maxDomains})` });
      }
      return true;
    },
  });
}
