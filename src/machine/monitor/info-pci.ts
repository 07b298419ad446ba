import { BAR_UNMAPPED, barIs64, barIsIo, barIsPrefetch } from '../../pci/bar.js';
import type { PCIBus } from '../../pci/bus.js';
import type { PCIDevice } from '../../pci/device.js';
import { PCIBridge } from '../../pci/bridge.js';
import {
  PCI_CLASS_DEVICE, PCI_HEADER_TYPE, PCI_HEADER_TYPE_NORMAL, PCI_INTERRUPT_LINE, PCI_INTERRUPT_PIN, PCI_PRIMARY_BUS,
  PCI_SECONDARY_BUS, PCI_SUBORDINATE_BUS, PCI_SUBSYSTEM_ID, PCI_SUBSYSTEM_VENDOR_ID,
} from '../../pci/regs.js';

/** QEMU hw/pci/pci.c pci_class_descriptions (class and subclass -> text). */
export const CLASS_DESC: Readonly<Record<number, string>> = {
  0x0001: 'VGA controller', 0x0100: 'SCSI controller', 0x0101: 'IDE controller', 0x0102: 'Floppy controller',
  0x0103: 'IPI controller', 0x0104: 'RAID controller', 0x0106: 'SATA controller', 0x0107: 'SAS controller',
  0x0180: 'Storage controller', 0x0200: 'Ethernet controller', 0x0201: 'Token Ring controller', 0x0202: 'FDDI controller',
  0x0203: 'ATM controller', 0x0280: 'Network controller', 0x0300: 'VGA controller', 0x0301: 'XGA controller',
  0x0302: '3D controller', 0x0380: 'Display controller', 0x0400: 'Video controller', 0x0401: 'Audio controller',
  0x0402: 'Phone', 0x0403: 'Audio controller', 0x0480: 'Multimedia controller', 0x0500: 'RAM controller',
  0x0501: 'Flash controller', 0x0580: 'Memory controller', 0x0600: 'Host bridge', 0x0601: 'ISA bridge',
  0x0602: 'EISA bridge', 0x0603: 'MC bridge', 0x0604: 'PCI bridge', 0x0605: 'PCMCIA bridge', 0x0606: 'NUBUS bridge',
  0x0607: 'CARDBUS bridge', 0x0608: 'RACEWAY bridge', 0x0680: 'Bridge', 0x0700: 'Serial port', 0x0701: 'Parallel port',
  0x0800: 'Interrupt controller', 0x0801: 'DMA controller', 0x0802: 'Timer', 0x0803: 'RTC', 0x0900: 'Keyboard',
  0x0901: 'Pen', 0x0902: 'Mouse', 0x0a00: 'Dock station', 0x0b00: 'i386 cpu', 0x0c00: 'Firewire controller',
  0x0c01: 'Access bus controller', 0x0c02: 'SSA controller', 0x0c03: 'USB controller', 0x0c04: 'Fibre channel controller',
  0x0c05: 'SMBus',
};

const U64 = (1n << 64n) - 1n;
const hex = (v: bigint, w: number): string => BigInt.asUintN(64, v).toString(16).padStart(w, '0');

/** hmp_info_pci_device (QEMU 7.2 monitor/hmp-cmds.c over qmp_query_pci). */
function device(lines: string[], d: PCIDevice): void {
  const cs = d.cs;
  lines.push(`  Bus ${String(d.bus.number).padStart(2)}, device ${String(d.devfn >> 3).padStart(3)}, function ${d.devfn & 7}:`);
  const cls = cs.get16(PCI_CLASS_DEVICE);
  const desc = CLASS_DESC[cls] ?? `Class ${String(cls).padStart(4, '0')}`;
  lines.push(`    ${desc}: PCI device ${hex(BigInt(cs.get16(0)), 4)}:${hex(BigInt(cs.get16(2)), 4)}`);
  if ((cs.get8(PCI_HEADER_TYPE) & 0x7f) === PCI_HEADER_TYPE_NORMAL) {
    lines.push(`      PCI subsystem ${hex(BigInt(cs.get16(PCI_SUBSYSTEM_VENDOR_ID)), 4)}:${hex(BigInt(cs.get16(PCI_SUBSYSTEM_ID)), 4)}`);
  }
  const pin = cs.get8(PCI_INTERRUPT_PIN);
  if (pin) lines.push(`      IRQ ${cs.get8(PCI_INTERRUPT_LINE)}, pin ${String.fromCharCode(64 + pin)}`);
  const bridge = d instanceof PCIBridge ? d : undefined;
  if (bridge) {
    lines.push(`      BUS ${cs.get8(PCI_PRIMARY_BUS)}.`);
    lines.push(`      secondary bus ${cs.get8(PCI_SECONDARY_BUS)}.`);
    lines.push(`      subordinate bus ${cs.get8(PCI_SUBORDINATE_BUS)}.`);
    const io = bridge.window('io');
    const mem = bridge.window('mem');
    const pref = bridge.window('pref');
    lines.push(`      IO range [0x${hex(io.base, 4)}, 0x${hex(io.limit, 4)}]`);
    lines.push(`      memory range [0x${hex(mem.base, 8)}, 0x${hex(mem.limit, 8)}]`);
    lines.push(`      prefetchable memory range [0x${hex(pref.base, 8)}, 0x${hex(pref.limit, 8)}]`);
  }
  d.ioRegions.forEach((r, i) => {
    if (!r) return;
    const a = r.addr === BAR_UNMAPPED ? U64 : r.addr;
    const end = (a + r.size - 1n) & U64;
    if (barIsIo(r)) lines.push(`      BAR${i}: I/O at 0x${hex(a, 4)} [0x${hex(end, 4)}].`);
    else lines.push(`      BAR${i}: ${barIs64(r) ? 64 : 32} bit${barIsPrefetch(r) ? ' prefetchable' : ''} memory at 0x${hex(a, 8)} [0x${hex(end, 8)}].`);
  });
  lines.push(`      id "${d.id ?? ''}"`);
  if (bridge && cs.get8(PCI_SECONDARY_BUS) !== 0) {
    const child = d.bus.findBus(cs.get8(PCI_SECONDARY_BUS));
    if (child) busDevices(lines, child);
  }
}

function busDevices(lines: string[], bus: PCIBus): void {
  for (const d of bus.devices) if (d) device(lines, d);
}

/** The text of `info pci` for the given root buses. */
export function infoPci(roots: readonly PCIBus[]): string {
  const lines: string[] = [];
  for (const r of roots) busDevices(lines, r);
  return lines.map((l) => l + '\n').join('');
}
