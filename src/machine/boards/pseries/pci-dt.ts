import { barIs64, barIsIo } from '../../../pci/bar.js';
import type { PCIDevice } from '../../../pci/device.js';
import {
  PCI_BASE_ADDRESS_0, PCI_CACHE_LINE_SIZE, PCI_CLASS_PROG, PCI_DEVICE_ID, PCI_INTERRUPT_PIN, PCI_REVISION_ID,
  PCI_ROM_ADDRESS, PCI_ROM_SLOT, PCI_STATUS, PCI_STATUS_66MHZ, PCI_STATUS_FAST_BACK, PCI_SUBSYSTEM_ID,
  PCI_SUBSYSTEM_VENDOR_ID, PCI_VENDOR_ID,
} from '../../../pci/regs.js';
import type { SpaprDeviceNode } from '../board.js';
import type { CcToken } from './drc.js';

const PCI_MIN_GNT = 0x3e;
const PCI_MAX_LAT = 0x3f;
const PCI_STATUS_UDF = 0x40;
const PCI_STATUS_DEVSEL_MASK = 0x600;
const PCI_MSI_FLAGS = 2;
const PCI_MSI_FLAGS_QMASK = 0x0e;
const PCI_PREFETCH = 0x08;

/**
 * Open Firmware node names by class (QEMU spapr_pci.c pci_classes, from
 * the PCI Bus Binding to IEEE 1275): base class name, then a subclass
 * name where the binding gives one. Only the lists QEMU has; anything
 * else is "pci".
 */
const CLASS_NAMES: readonly (readonly [string, Readonly<Record<number, string>>])[] = [
  ['legacy-device', { 0x01: 'vga' }],
  ['storage', { 0x00: 'scsi', 0x01: 'ide', 0x02: 'fdc', 0x03: 'ipi', 0x04: 'raid', 0x05: 'ata', 0x06: 'sata', 0x07: 'sas' }],
  ['network', { 0x00: 'ethernet', 0x01: 'token-ring', 0x02: 'fddi', 0x03: 'atm', 0x04: 'isdn', 0x05: 'worldfip', 0x06: 'picmg' }],
  ['display', { 0x00: 'vga', 0x01: 'xga', 0x02: '3d-controller' }],
  ['multimedia-device', { 0x00: 'video', 0x01: 'sound', 0x02: 'telephony' }],
  ['memory-controller', { 0x00: 'memory', 0x01: 'flash' }],
  ['bridge', { 0x00: 'host', 0x01: 'isa', 0x02: 'eisa', 0x03: 'mca', 0x04: 'pci', 0x05: 'pcmcia', 0x06: 'nubus', 0x07: 'cardbus', 0x08: 'raceway', 0x09: 'semi-transparent-pci', 0x0a: 'infiniband' }],
  ['communication-controller', { 0x00: 'serial', 0x01: 'parallel', 0x02: 'multiport-serial', 0x03: 'modem' }],
  ['system-peripheral', { 0x00: 'interrupt-controller', 0x01: 'dma-controller', 0x02: 'timer', 0x03: 'rtc', 0x04: 'hot-plug-controller', 0x05: 'sd-host-controller' }],
  ['input-controller', { 0x00: 'keyboard', 0x01: 'pen', 0x02: 'mouse', 0x03: 'scanner', 0x04: 'gameport' }],
  ['docking-station', {}],
  ['cpu', { 0x00: '386', 0x01: '486', 0x02: 'pentium', 0x10: 'alpha', 0x20: 'powerpc', 0x30: 'mips', 0x40: 'co-processor' }],
  ['serial-bus', { 0x00: 'firewire', 0x01: 'access-bus', 0x02: 'ssa', 0x03: 'usb', 0x04: 'fibre-channel', 0x05: 'smb', 0x06: 'infiniband', 0x07: 'ipmi', 0x08: 'sercos', 0x09: 'canbus' }],
  ['wireless-controller', { 0x00: 'irda', 0x01: 'consumer-ir', 0x10: 'rf-controller', 0x11: 'bluetooth', 0x12: 'broadband' }],
  ['intelligent-io', { 0x00: 'i2o' }],
  ['satellite-device', { 0x01: 'satellite-tv', 0x02: 'satellite-audio', 0x03: 'satellite-voice', 0x04: 'satellite-data' }],
  ['encryption', { 0x00: 'network-encryption', 0x01: 'entertainment-encryption' }],
  ['data-processing-controller', { 0x00: 'dpio' }],
];

/** dt_name_from_class. */
export function dtNameFromClass(base: number, sub: number): string {
  const c = CLASS_NAMES[base];
  if (!c) return 'pci';
  return c[1][sub] ?? c[0];
}

function cell(v: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, v >>> 0);
  return b;
}

function cells(vs: readonly number[]): Uint8Array {
  const b = new Uint8Array(4 * vs.length);
  const dv = new DataView(b.buffer);
  vs.forEach((v, i) => dv.setUint32(4 * i, v >>> 0));
  return b;
}

/**
 * "reg" (PCI Bus Binding to IEEE 1275 section 4.1.1, PAPR+ appendix C;
 * QEMU populate_resource_props): the config space entry, then one
 * relocatable entry per BAR: phys.hi = npt000ss bbbbbbbb dddddfff
 * rrrrrrrr with ss 1 I/O, 2 32-bit memory, 3 64-bit memory, p set for a
 * prefetchable BAR; phys.mid/lo 0; size in two cells.
 */
function regCells(dev: PCIDevice): number[] {
  const devId = (dev.bus.number << 16) | (dev.devfn << 8);
  const out = [devId, 0, 0, 0, 0];
  dev.ioRegions.forEach((r, i) => {
    if (!r || r.size === 0n) return;
    const reg = i === PCI_ROM_SLOT ? PCI_ROM_ADDRESS : PCI_BASE_ADDRESS_0 + 4 * i;
    let hi = devId | reg;
    if (barIsIo(r)) hi |= 1 << 24;
    else hi |= (barIs64(r) ? 3 : 2) << 24;
    if (!barIsIo(r) && (r.type & PCI_PREFETCH)) hi |= 1 << 30;
    out.push(hi >>> 0, 0, 0, Number(r.size >> 32n), Number(r.size & 0xffffffffn));
  });
  return out;
}

/**
 * A function's device-tree node (QEMU 7.2 spapr_dt_pci_device, PAPR+
 * 13.6.3 table 181), in the boot tree and as ibm,configure-connector hands
 * it out for a hot-added function: "<class name>@<slot>[,<fn>]" and its
 * properties. libfdt puts each new property first, so the guest sees them
 * in the reverse of QEMU's creation order; the order here is the one
 * recorded from QEMU 7.2 (test/machine/data/qtest/pseries-hotplug.txt).
 * No "assigned-addresses": the BARs are unassigned until the guest
 * programs them.
 */
export function spaprPciDeviceNode(dev: PCIDevice, drcIndex: number, phbIndex: number): SpaprDeviceNode {
  const cs = dev.cs;
  const created: [string, Uint8Array][] = [];
  const u32 = (name: string, v: number) => created.push([name, cell(v)]);
  u32('vendor-id', cs.get16(PCI_VENDOR_ID));
  u32('device-id', cs.get16(PCI_DEVICE_ID));
  u32('revision-id', cs.get8(PCI_REVISION_ID));
  u32('class-code', cs.get32(PCI_CLASS_PROG - 1) >>> 8);
  if (cs.get8(PCI_INTERRUPT_PIN)) u32('interrupts', cs.get8(PCI_INTERRUPT_PIN));
  if (cs.get16(PCI_SUBSYSTEM_ID)) u32('subsystem-id', cs.get16(PCI_SUBSYSTEM_ID));
  if (cs.get16(PCI_SUBSYSTEM_VENDOR_ID)) u32('subsystem-vendor-id', cs.get16(PCI_SUBSYSTEM_VENDOR_ID));
  u32('cache-line-size', cs.get8(PCI_CACHE_LINE_SIZE));
  const status = cs.get16(PCI_STATUS);
  u32('devsel-speed', status & PCI_STATUS_DEVSEL_MASK);
  if (status & PCI_STATUS_FAST_BACK) created.push(['fast-back-to-back', new Uint8Array(0)]);
  if (status & PCI_STATUS_66MHZ) created.push(['66mhz-capable', new Uint8Array(0)]);
  if (status & PCI_STATUS_UDF) created.push(['udf-supported', new Uint8Array(0)]);
  const slot = dev.devfn >> 3;
  const fn = dev.devfn & 7;
  const hex = (v: number, w: number) => v.toString(16).padStart(w, '0');
  const loc = `qemu_${dev.typeName}:${hex(phbIndex, 4)}:${hex(dev.bus.number, 2)}:${hex(slot, 2)}.${fn.toString(16)}`;
  created.push(['ibm,loc-code', new TextEncoder().encode(`${loc}\0`)]);
  u32('ibm,my-drc-index', drcIndex);
  if (dev.msi) {
    const mmc = (cs.get16(dev.msi.offset + PCI_MSI_FLAGS) & PCI_MSI_FLAGS_QMASK) >> 1;
    u32('ibm,req#msi', 1 << mmc);
  }
  if (dev.msix) u32('ibm,req#msi-x', dev.msix.entries);
  created.push(['reg', cells(regCells(dev))]);
  if (!dev.isBridge) {
    u32('min-grant', cs.get8(PCI_MIN_GNT));
    u32('max-latency', cs.get8(PCI_MAX_LAT));
  }
  const cls = cs.get16(PCI_CLASS_PROG + 1);
  const name = `${dtNameFromClass(cls >> 8, cls & 0xff)}@${slot.toString(16)}${fn ? `,${fn.toString(16)}` : ''}`;
  return { name, props: created.reverse() };
}

/** The same node as ibm,configure-connector's steps: the node begins, its properties, it ends. */
export function spaprPciDeviceFragment(dev: PCIDevice, drcIndex: number, phbIndex: number): CcToken[] {
  const node = spaprPciDeviceNode(dev, drcIndex, phbIndex);
  return [
    { tag: 'begin', name: node.name },
    ...node.props.map(([n, value]): CcToken => ({ tag: 'prop', name: n, value })),
    { tag: 'end' },
  ];
}
