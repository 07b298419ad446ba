import { ACPI_BUILD_LOADER_FILE, ACPI_BUILD_RSDP_FILE, ACPI_BUILD_TABLE_FILE } from '../../firmware/fw-cfg/fw-cfg-keys.js';
import type { Machine } from '../../machine.js';
import { runMachineInput, type MachineTargetHooks } from '../harness.js';
import { num, u32, type FuzzRng } from '../rng.js';
import type { FuzzTarget, Op, Variant } from '../types.js';

const EDU = ['-device', 'edu', '-device', 'pcie-root-port,id=rp1,chassis=1', '-device', 'edu,bus=rp1'];
const VARIANTS: readonly Variant[] = [
  { name: 'q35-dmar', args: ['-M', 'q35', '-device', 'intel-iommu', ...EDU] },
  { name: 'q35-viot', args: ['-M', 'q35', '-device', 'virtio-iommu-pci', ...EDU] },
  { name: 'virt-iort', args: ['-M', 'virt,iommu=smmuv3,acpi=on', ...EDU] },
  { name: 'virt-dt-smmuv3', args: ['-M', 'virt,iommu=smmuv3', ...EDU] },
  { name: 'virt-dt-virtio-iommu', args: ['-M', 'virt', '-device', 'virtio-iommu-pci', ...EDU] },
  { name: 'pseries-dt', args: ['-M', 'pseries', '-device', 'edu'] },
];

const FILES = { tables: ACPI_BUILD_TABLE_FILE, loader: ACPI_BUILD_LOADER_FILE, rsdp: ACPI_BUILD_RSDP_FILE } as const;
/** Tables the guest parses; ops aim inside them (offsets relative to the signature). */
const SIGNATURES = ['DMAR', 'IORT', 'VIOT', 'MCFG', 'APIC', 'RSDT', 'XSDT', 'FACP'];
const HOW = ['byte', 'byte', 'u32', 'u32', 'u64', 'trunc', 'grow'] as const;

function randomMutation(rng: FuzzRng, variant: Variant): Op {
  const dt = variant.name.includes('-dt');
  const f = dt ? 'dtb' : rng.weighted([[6, 'tables'], [2, 'loader'], [1, 'rsdp']] as const);
  const how = rng.pick(HOW);
  const v = how === 'byte' ? rng.below(256) : rng.value32();
  const at = rng.chance(0.5) ? rng.below(64) : rng.below(1 << 14);
  if (f === 'tables' && rng.chance(0.8)) return { k: 'mut', f, sig: rng.pick(SIGNATURES), at, how, v };
  if (f === 'dtb' && rng.chance(0.3)) return { k: 'mut', f, at: rng.below(40), how: 'u32', v: rng.value32() };
  return { k: 'mut', f, at, how, v };
}

function mutateBlob(blob: Uint8Array, op: Op): Uint8Array {
  let at = num(op['at']);
  const sig = op['sig'];
  if (typeof sig === 'string') {
    const text = Buffer.from(blob).toString('latin1');
    const i = text.indexOf(sig);
    if (i < 0) return blob;
    at += i;
  }
  if (blob.length === 0) return blob;
  at %= blob.length;
  const v = u32(op['v']);
  const out = new Uint8Array(blob);
  const dv = new DataView(out.buffer);
  switch (op['how']) {
    case 'byte': out[at] = v & 0xff; return out;
    case 'u32': if (at + 4 <= out.length) dv.setUint32(at, v, op['f'] === 'dtb' ? false : true); return out;
    case 'u64': if (at + 8 <= out.length) { dv.setUint32(at, v, true); dv.setUint32(at + 4, v ^ 0xffffffff, true); } return out;
    case 'trunc': return blob.slice(0, at);
    case 'grow': { const g = new Uint8Array(blob.length + (v & 0xfff)); g.set(blob); g.fill(v & 0xff, blob.length); return g; }
    default: return out;
  }
}

/** Applies the ops to the blobs the guest will read: the fw_cfg ACPI files (built now, kept: no rebuild) or the DTB. */
function prepare(m: Machine, ops: readonly Op[], feature: (f: string) => void): void {
  const fw = m.firmware;
  if (fw.acpi) fw.acpi.current();
  for (const op of ops) {
    if (op.k !== 'mut') continue;
    const f = String(op['f']);
    if (f === 'dtb') {
      if (fw.fdt) fw.fdt = mutateBlob(fw.fdt, op);
    } else if (fw.fwCfg && f in FILES) {
      const name = FILES[f as keyof typeof FILES];
      const blob = fw.fwCfg.file(name);
      if (blob) fw.fwCfg.setFileData(name, mutateBlob(blob, op));
    }
    feature(`mut:${f}:${String(op['sig'] ?? '')}:${String(op['how'])}`);
  }
}

/** The guest's firmware parsers: ACPI tables, RSDP and table-loader commands over fw_cfg (DMAR, IORT, VIOT, MCFG, MADT), device trees. */
export function firmwareTarget(): FuzzTarget {
  const hooks: MachineTargetHooks<undefined> = {
    prepare,
    setup: () => undefined,
    exec: () => undefined,
    boot: { workloads: [{ name: 'edu-dma', params: { iterations: 1 } }] },
  };
  return {
    name: 'firmware',
    summary: "the guest's firmware parsers: mutated ACPI tables (DMAR/IORT/VIOT/MCFG/MADT), RSDP, table-loader, device trees",
    variants: VARIANTS,
    maxOps: 24,
    generate: (rng, v) => Array.from({ length: 1 + rng.below(6) }, () => randomMutation(rng, v)),
    randomOp: randomMutation,
    mutateOp: (rng, op, v) => (rng.chance(0.5) ? { ...op, v: rng.value32(u32(op['v'])) } : op['sig'] !== undefined ? { ...op, at: (num(op['at']) + rng.range(-4, 4)) & 0xffff } : randomMutation(rng, v)),
    run: (input) => runMachineInput(input, hooks),
  };
}
