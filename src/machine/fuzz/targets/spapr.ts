import { H_GET_TCE, H_PUT_TCE, H_PUT_TCE_INDIRECT, H_STUFF_TCE } from '../../../iommu/spapr/papr.js';
import { bswap32 } from '../../../memory/bswap.js';
import { PseriesBoard } from '../../boards/pseries/pseries.js';
import { HotplugController } from '../../hotplug.js';
import { QmpError } from '../../qmp/errors.js';
import type { MachineContext } from '../harness.js';
import { big, FuzzRng, hex64, num, u32 } from '../rng.js';
import type { FuzzTarget, Op, Variant } from '../types.js';
import { machineTarget } from './machine-target.js';

const VARIANTS: readonly Variant[] = [
  { name: 'pseries', args: ['-M', 'pseries', '-device', 'edu', '-device', 'edu'] },
  { name: 'pseries-ddw-off', args: ['-M', 'pseries', '-global', 'spapr-pci-host-bridge.ddw=off', '-device', 'edu'] },
];

/** Hypercalls of the TCE room (PAPR 14.5.4.2) plus a few it does not implement (H_FUNCTION expected). */
const HCALLS = [H_PUT_TCE, H_GET_TCE, H_STUFF_TCE, H_PUT_TCE_INDIRECT, H_PUT_TCE, H_PUT_TCE_INDIRECT, 0x4, 0x8, 0x1f0, 0x7fff_fffc];
/** SPAPR_PCI_LIOBN(0, 0), (0, 1), another PHB, a VIO LIOBN, garbage. */
const LIOBNS = [0x8000_0000n, 0x8000_0001n, 0x8000_0100n, 0x1000_0000n, 0n, 0xffff_ffffn, 0x8000_0002n];
/** The PHB's BUID (SPAPR_PCI_BUID) split as RTAS takes it, and garbage. */
const BUIDS: readonly (readonly [number, number])[] = [[0x0800_0000, 0x2000_0000], [0x0800_0000, 0x2000_0001], [0, 0], [0xffff_ffff, 0xffff_ffff]];

function tce(rng: FuzzRng): bigint {
  const c = rng.below(4);
  if (c === 0) return BigInt(rng.below(0x2000)) * 0x1000n | BigInt(rng.below(4));
  if (c === 1) return rng.value64() | 3n;
  return rng.value64();
}

function randomHcall(rng: FuzzRng): Op {
  const opcode = rng.pick(HCALLS);
  const liobn = hex64(rng.pick(LIOBNS));
  const ioba = hex64(rng.chance(0.7) ? BigInt(rng.below(0x4000)) * 0x1000n : rng.value64());
  if (opcode === H_PUT_TCE_INDIRECT) return { k: 'hcall', op: opcode, liobn, ioba, n: rng.value32(rng.below(512)), ls: rng.u32() || 1, bad: rng.chance(0.1) };
  if (opcode === H_STUFF_TCE) return { k: 'hcall', op: opcode, liobn, ioba, tce: hex64(tce(rng)), n: rng.value32(rng.below(64)) };
  return { k: 'hcall', op: opcode, liobn, ioba, tce: hex64(tce(rng)) };
}

function randomRtas(rng: FuzzRng, names: readonly string[]): Op {
  const name = rng.pick(names);
  const [hi, lo] = rng.pick(BUIDS);
  const cfg = rng.chance(0.7) ? (rng.below(2) << 16) | (rng.below(32) << 11) : rng.u32();
  const args = [cfg, hi, lo, rng.pick([12, 16, 21, 24, 0, 63, 64]), rng.pick([28, 30, 32, 40, 44, 52, 60, 64, 0])].map((v) => (rng.chance(0.1) ? rng.value32(v) : v));
  return { k: 'rtas', name, args: args.slice(0, rng.below(args.length + 2)), nret: rng.below(8) };
}

/** RTAS calls by the names the board registers (ibm,*-pe-dma-window, PCI config, ...); known at import so generation needs no machine. */
const RTAS_NAMES = ['ibm,query-pe-dma-window', 'ibm,create-pe-dma-window', 'ibm,remove-pe-dma-window', 'ibm,reset-pe-dma-window',
  'ibm,read-pci-config', 'ibm,write-pci-config', 'read-pci-config', 'write-pci-config', 'no-such-call'];

/** DRC calls (spapr_drc.c) and the event queue (spapr_events.c): types, connector indexes and states a guest uses, and wrong ones. */
const DRC_CALLS = ['set-indicator', 'get-sensor-state', 'ibm,configure-connector', 'check-exception', 'event-scan'];
const DRC_TYPES = [9001, 9002, 9003, 9999, 0];
const DRC_INDEXES = [0x4000_0000, 0x4000_0008, 0x4000_0018, 0x4000_0020, 0x4000_00ff, 0x4001_0000, 0x2000_0000, 0xffff_ffff];
const HP_DRIVERS = ['edu', 'virtio-net-pci', 'pci-bridge', 'vfio-pci-model'];
const HP_ADDRS = ['3', '4', '3.1', '0', '1f', undefined];

function randomDrc(rng: FuzzRng): Op {
  if (rng.chance(0.3)) {
    return rng.chance(0.6)
      ? { k: 'hp', what: 'add', driver: rng.pick(HP_DRIVERS), addr: rng.pick(HP_ADDRS) ?? null, id: rng.pick(['h1', 'h2', 'h3']) }
      : { k: 'hp', what: rng.chance(0.8) ? 'del' : 'reset', id: rng.pick(['h1', 'h2', 'h3']) };
  }
  return { k: 'drc', call: rng.pick(DRC_CALLS), type: rng.pick(DRC_TYPES), index: rng.chance(0.9) ? rng.pick(DRC_INDEXES) : rng.u32(), state: rng.below(5), len: rng.pick([2048, 8, 0, 116]) };
}

interface SpaprState {
  readonly list: number;
  /** A 4 KiB guest page: the configure-connector work area and the check-exception buffer. */
  readonly wa: number;
  readonly hotplug: HotplugController;
}

function execHcall(ctx: MachineContext, s: SpaprState, op: Op): void {
  const port = ctx.port;
  if (!port.hcall) return;
  const opcode = u32(op['op']);
  const args = [big(op['liobn']), big(op['ioba'])];
  if (opcode === H_PUT_TCE_INDIRECT) {
    const n = Math.min(num(op['n']), 4096);
    const r = new FuzzRng(u32(op['ls']) || 1);
    const bytes = new Uint8Array(Math.min(n, 512) * 8);
    const dv = new DataView(bytes.buffer);
    for (let i = 0; i < bytes.length / 8; i++) dv.setBigUint64(i * 8, tce(r), false);
    port.writeBytes(s.list, bytes);
    args.push(op['bad'] ? 0xffff_ffff_f000n : BigInt(s.list), BigInt(n));
  } else if (opcode === H_STUFF_TCE) {
    args.push(big(op['tce']), BigInt(num(op['n'])));
  } else {
    args.push(big(op['tce']));
  }
  const out = port.hcall(opcode, args);
  ctx.feature(`hcall:${opcode}:${out.ret}`);
}

function execRtas(ctx: MachineContext, op: Op): void {
  const b = ctx.machine.board;
  if (!(b instanceof PseriesBoard) || !ctx.port.rtas) return;
  const token = b.rtas.tokenOf(String(op['name'])) ?? 0xdead;
  const args = Array.isArray(op['args']) ? (op['args'] as unknown[]).map((v) => u32(v)) : [];
  const ret = ctx.port.rtas(token, args, Math.min(num(op['nret']), 16));
  ctx.feature(`rtas:${String(op['name'])}:${args.length}:${ret[0] ?? 'none'}`);
}

/** A DRC or event call as a guest makes it; configure-connector's work area starts with the DRC index. */
function execDrc(ctx: MachineContext, s: SpaprState, op: Op): void {
  const b = ctx.machine.board;
  if (!(b instanceof PseriesBoard) || !ctx.port.rtas) return;
  const call = String(op['call']);
  const token = b.rtas.tokenOf(call) ?? 0xdead;
  const index = u32(op['index']);
  let args: number[];
  if (call === 'set-indicator') args = [u32(op['type']), index, num(op['state'])];
  else if (call === 'get-sensor-state') args = [u32(op['type']), index];
  else if (call === 'ibm,configure-connector') {
    ctx.port.write(s.wa, 4, bswap32(index));
    args = [s.wa, 0];
  } else if (call === 'check-exception') args = [0x500, 0x1001, 0x5000_0000, 0, s.wa, num(op['len'])];
  else args = [0x5000_0000, 0, s.wa, num(op['len'])];
  const ret = ctx.port.rtas(token, args, call === 'get-sensor-state' ? 2 : 1);
  ctx.feature(`drc:${call}:${u32(op['type'])}:${ret[0] ?? 'none'}:${ret[1] ?? ''}`);
}

/** device_add / device_del on the PHB's bus (its DRCs), and system reset with removals pending. */
function execHotplug(ctx: MachineContext, s: SpaprState, op: Op): void {
  const what = String(op['what']);
  try {
    if (what === 'add') {
      const args: Record<string, string> = { driver: String(op['driver']), id: String(op['id']) };
      if (typeof op['addr'] === 'string') args['addr'] = op['addr'];
      if (args['driver'] === 'pci-bridge') args['chassis_nr'] = '1';
      s.hotplug.deviceAdd(args);
    } else if (what === 'del') s.hotplug.deviceDel(String(op['id']));
    else ctx.machine.reset();
    ctx.feature(`hp:${what}:ok`);
  } catch (e) {
    if (!(e instanceof QmpError)) throw e;
    ctx.feature(`hp:${what}:${e.desc.slice(0, 40)}`);
  }
}

/** sPAPR: TCE hypercalls (PUT/GET/STUFF/PUT_INDIRECT), RTAS calls (DDW, PCI config, DRCs, check-exception) with hostile arguments, PCI hot-plug, edu DMA through the TCEs. */
export function spaprTarget(): FuzzTarget {
  return machineTarget<SpaprState>({
    name: 'spapr',
    summary: 'sPAPR: TCE hypercalls and RTAS calls (DDW create/remove/reset/query, PCI config, DRCs and hot-plug events) with hostile arguments, device_add/device_del on the PHB',
    variants: VARIANTS,
    preferRegion: (n) => n.startsWith('edu-mmio'),
    randomOp: (rng) => (rng.chance(0.5) ? randomHcall(rng) : rng.chance(0.4) ? randomRtas(rng, RTAS_NAMES) : rng.chance(0.7) ? randomDrc(rng) : undefined),
    mutateOp: (rng, op) => {
      if (op.k === 'hcall') return rng.chance(0.5) ? { ...op, ioba: hex64(rng.value64(big(op['ioba']))) } : { ...op, tce: hex64(rng.value64(big(op['tce']))), n: rng.value32(num(op['n'])) };
      if (op.k === 'rtas') return randomRtas(rng, RTAS_NAMES);
      if (op.k === 'drc' || op.k === 'hp') return randomDrc(rng);
      return undefined;
    },
    setup: (ctx) => ({ list: ctx.kernel.mem.alloc(4096) ?? 0x10_0000, wa: ctx.kernel.mem.alloc(4096) ?? 0x11_0000, hotplug: new HotplugController(ctx.machine) }),
    exec: (ctx, s, op) => {
      if (op.k === 'hcall') execHcall(ctx, s, op);
      else if (op.k === 'rtas') execRtas(ctx, op);
      else if (op.k === 'drc') execDrc(ctx, s, op);
      else if (op.k === 'hp') execHotplug(ctx, s, op);
      else return false;
      return true;
    },
  });
}
