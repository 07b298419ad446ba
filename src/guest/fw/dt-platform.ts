import type { GuestKernel } from '../kernel.js';
import { ecamAccess, rtasAccess, type PciConfigAccess } from '../pci-core/config-access.js';
import type { HostWindow, HostWindows } from '../pci-core/resources.js';
import { loadAcpi } from './acpi-load.js';
import { addDtIommuMap } from './dt-iommu.js';
import { parseFdt, type FdtNode } from './fdt/fdt.js';
import { pciRangesOf, regOf } from './fdt/props.js';
import { fwCfgMmio } from './fw-cfg-regs.js';
import { FwCfgClient } from './fw-cfg.js';
import { ParseError } from '../util/result.js';

const TWO32 = 2 ** 32;

/** A PCI host bridge found in the device tree. */
export interface DtPciHost {
  readonly node: FdtNode;
  readonly access: PciConfigAccess;
  readonly busRange: readonly [number, number];
  readonly windows: HostWindows;
}

function num(v: bigint, what: string): number {
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new ParseError(`${what} 0x${v.toString(16)} is beyond 2^53`);
  return Number(v);
}

/** Host windows from a PCI node's `ranges`: the first I/O, 32-bit and 64-bit memory ranges. */
export function dtHostWindows(node: FdtNode): HostWindows {
  let io: HostWindow | undefined;
  let mem32: HostWindow | undefined;
  let mem64: HostWindow | undefined;
  for (const r of pciRangesOf(node)) {
    const w = { pciBase: num(r.pciAddress, 'PCI address'), cpuBase: num(r.cpuAddress, 'CPU address'), size: num(r.size, 'window size') };
    if (r.space === 'io' && !io) io = { ...w, pciBase: Math.max(w.pciBase, 0x1000), cpuBase: w.cpuBase + Math.max(0, 0x1000 - w.pciBase), size: w.size - Math.max(0, 0x1000 - w.pciBase) };
    else if (r.space === 'mem32' && !mem32 && w.pciBase + w.size <= TWO32) mem32 = w;
    else if ((r.space === 'mem64' || r.space === 'mem32') && !mem64 && w.pciBase + w.size > TWO32) mem64 = w;
  }
  return { ...(io ? { io } : {}), ...(mem32 ? { mem32 } : {}), ...(mem64 ? { mem64 } : {}) };
}

function busRangeOf(node: FdtNode): [number, number] {
  const b = node.cells('bus-range');
  return b && b.length === 2 ? [b[0]!, b[1]!] : [0, 255];
}

/**
 * Device-tree boards. virt: the `pci-host-ecam-generic` node gives the ECAM
 * window (reg), bus range and windows (ranges), and its `iommu-map` the
 * IOMMU topology; fw_cfg ("qemu,fw-cfg-mmio") carries the ACPI tables when
 * the guest boots with ACPI. pseries: the PHB node gives the BUID (reg) and
 * windows, /rtas the config-access tokens. Linux on these boards assigns
 * bus numbers and BARs itself, so the caller enumerates with assignment.
 */
export function bootDt(k: GuestKernel, preferAcpi: boolean): DtPciHost | undefined {
  const blob = k.port.fdt?.();
  if (!blob) {
    k.firmware.errors.push('no device tree handed over');
    return undefined;
  }
  const tree = parseFdt(blob);
  if (!tree.ok) {
    k.firmware.errors.push(tree.error);
    k.log.err('OF', tree.error);
    return undefined;
  }
  const t = tree.value;
  k.firmware.kind = 'dt';
  k.firmware.fdt = t;
  k.log.info('OF', `device tree v${t.version}, model "${t.root.string('model') ?? t.root.string('compatible') ?? '?'}"`);
  try {
    const fwNode = t.findCompatible('qemu,fw-cfg-mmio')[0];
    if (fwNode && preferAcpi) {
      const base = num(regOf(fwNode)[0]!.address, 'fw_cfg base');
      const fw = FwCfgClient.open(k.port, fwCfgMmio(k.port, base), k.mem);
      if (fw.ok) {
        k.firmware.fwCfg = fw.value;
        const walk = loadAcpi(k, fw.value);
        if (walk.ok) {
          k.firmware.kind = 'acpi';
          k.firmware.acpi = walk.value;
          k.firmware.errors.push(...walk.value.errors);
        } else k.firmware.errors.push(walk.error);
      } else k.firmware.errors.push(fw.error);
    }
    const ecamHost = t.findCompatible('pci-host-ecam-generic')[0];
    if (ecamHost) {
      const reg = regOf(ecamHost)[0];
      if (!reg) throw new ParseError(`${ecamHost.path}: no reg`);
      const busRange = busRangeOf(ecamHost);
      const access = ecamAccess(k.port, { base: num(reg.address, 'ECAM base'), segment: ecamHost.u32('linux,pci-domain') ?? 0, startBus: busRange[0], endBus: busRange[1] });
      // Booted with ACPI, the kernel takes the IOMMU topology from ACPI (IORT, VIOT), not the device tree.
      const n = k.firmware.kind === 'acpi' ? 0 : addDtIommuMap(k.iommu, t, ecamHost);
      if (n) k.log.info('OF', `${ecamHost.path}: iommu-map with ${n} entries`);
      return { node: ecamHost, access, busRange, windows: dtHostWindows(ecamHost) };
    }
    const rtas = t.byPath('/rtas');
    const phb = [...t.nodes()].find((n) => n.parent === t.root && n.string('device_type') === 'pci');
    if (rtas && phb) {
      const read = rtas.u32('ibm,read-pci-config');
      const write = rtas.u32('ibm,write-pci-config');
      const reg = regOf(phb)[0];
      if (read === undefined || write === undefined || !reg) throw new ParseError('pseries: /rtas config tokens or PHB reg missing');
      const access = rtasAccess(k.port, { read, write, buidHi: Number(reg.address >> 32n), buidLo: Number(reg.address & 0xffffffffn) });
      if (!access) throw new ParseError('pseries: the port offers no RTAS');
      return { node: phb, access, busRange: busRangeOf(phb), windows: dtHostWindows(phb) };
    }
  } catch (e) {
    if (!(e instanceof ParseError)) throw e;
    k.firmware.errors.push(`device tree: ${e.message}`);
    k.log.err('OF', e.message);
  }
  return undefined;
}
