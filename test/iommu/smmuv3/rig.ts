import { parseCmdline } from '../../../src/machine/cmdline.js';
import { Machine } from '../../../src/machine/machine.js';
import { Smmuv3Device } from '../../../src/machine/devices/smmuv3.js';
import type { PCIDevice } from '../../../src/pci/device.js';
import { LpaeGuestTables, SmmuGuest, type Smmuv3 } from '../../../src/iommu/index.js';
import { MEMTX_OK, type MemTxAttrs, type MemTxResult } from '../../../src/memory/index.js';

export const RAM = 0x40000000;
export const SMMU = 0x09050000;
/** Guest memory layout of the rig: SMMU structures, CDs, tables, then data pages. */
export const AREA = RAM + 0x100000;
export const CD_BASE = RAM + 0x200000;
export const PT_BASE = RAM + 0x300000;
export const DATA = RAM + 0x1000000;

export interface Rig {
  readonly m: Machine;
  readonly smmu: Smmuv3;
  readonly dev: Smmuv3Device;
  readonly g: SmmuGuest;
  /** PCI functions by order of -device (edu, ...). */
  readonly pci: PCIDevice[];
  tables(granule?: number, tsz?: number, base?: number): LpaeGuestTables;
  sid(d: PCIDevice): number;
  dmaRead(d: PCIDevice, iova: number, len: number, attrs?: Partial<MemTxAttrs>): { result: MemTxResult; data: Uint8Array };
  dmaWrite(d: PCIDevice, iova: number, data: Uint8Array, attrs?: Partial<MemTxAttrs>): MemTxResult;
  ram32(addr: number): number;
}

/**
 * A virt machine with the SMMUv3 and edu functions (bus mastering on), a
 * guest-side SmmuGuest on the register window and LPAE tables in RAM.
 */
export function rig(opts: { globals?: string[]; devices?: string[]; log2sids?: number } = {}): Rig {
  const args = ['-M', 'virt,iommu=smmuv3', '-m', '256M'];
  for (const g of opts.globals ?? []) args.push('-global', `arm-smmuv3.${g}`);
  for (const d of opts.devices ?? ['edu']) args.push('-device', d);
  const m = Machine.create(parseCmdline(args).config);
  const dev = m.systemDevices.find((d) => d instanceof Smmuv3Device) as Smmuv3Device;
  const mem = m.systemAs;
  const pci = m.pciDevices().filter((d) => d.typeName !== 'gpex-root' && !d.isBridge);
  for (const d of pci) d.configWrite(4, d.configRead(4, 2) | 6, 2);
  const g = new SmmuGuest(mem, SMMU, AREA, opts.log2sids ?? 8);
  let nextPt = PT_BASE;
  return {
    m, smmu: dev.smmu, dev, g, pci,
    tables(granule = 12, tsz = 25, base?: number) {
      const t = new LpaeGuestTables(mem, base ?? nextPt, DATA, granule, tsz);
      nextPt = Math.max(nextPt, t.used + 0x10000);
      return t;
    },
    sid: (d) => ((d.bus.number & 0xff) << 8) | d.devfn,
    dmaRead(d, iova, len, attrs = {}) {
      const data = new Uint8Array(len);
      const result = d.busMaster.as.readBytes(iova, data, { requesterId: d.requesterId, ...attrs });
      return { result, data };
    },
    dmaWrite: (d, iova, data, attrs = {}) => d.busMaster.as.writeBytes(iova, data, { requesterId: d.requesterId, ...attrs }),
    ram32: (addr) => mem.read(addr, 4).lo >>> 0,
  };
}

export const ok = (r: MemTxResult): boolean => r === MEMTX_OK;
