import { BAR_UNMAPPED, barIsIo } from '../../pci/bar.js';
import { PCIBridge } from '../../pci/bridge.js';
import type { PCIBus } from '../../pci/bus.js';
import type { PCIDevice } from '../../pci/device.js';
import { PCI_CLASS_DEVICE, PCI_SUBSYSTEM_ID, PCI_SUBSYSTEM_VENDOR_ID } from '../../pci/regs.js';
import type { Machine } from '../machine.js';
import { CLASS_DESC } from './info-pci.js';

const U64 = (1n << 64n) - 1n;
const h = (v: number | bigint, w: number): string => BigInt.asUintN(64, BigInt(v)).toString(16).padStart(w, '0');

/** pcibus_dev_print (hw/pci/pci.c): the class line and the BARs. */
function pciDevice(lines: string[], d: PCIDevice, ind: string): void {
  lines.push(`${ind}dev: ${d.typeName}, id "${d.id ?? ''}"`);
  const i2 = `${ind}  `;
  const cs = d.cs;
  const cls = cs.get16(PCI_CLASS_DEVICE);
  const desc = CLASS_DESC[cls] ?? `Class ${h(cls, 4)}`;
  lines.push(`${i2}class ${desc}, addr ${h(d.bus.number, 2)}:${h(d.devfn >> 3, 2)}.${d.devfn & 7}, pci id ${h(cs.get16(0), 4)}:${h(cs.get16(2), 4)} (sub ${h(cs.get16(PCI_SUBSYSTEM_VENDOR_ID), 4)}:${h(cs.get16(PCI_SUBSYSTEM_ID), 4)})`);
  d.ioRegions.forEach((r, i) => {
    if (!r) return;
    const a = r.addr === BAR_UNMAPPED ? U64 : r.addr;
    lines.push(`${i2}bar ${i}: ${barIsIo(r) ? 'i/o' : 'mem'} at 0x${h(a, 0)} [0x${h((a + r.size - 1n) & U64, 0)}]`);
  });
  if (d instanceof PCIBridge) {
    const child = d.secondaryBus;
    pciBus(lines, child, i2);
  }
}

function pciBus(lines: string[], bus: PCIBus, ind: string): void {
  lines.push(`${ind}bus: ${bus.name}`);
  lines.push(`${ind}  type ${bus.express ? 'PCIE' : 'PCI'}`);
  // qdev keeps children newest first.
  const devs = bus.devices.filter((d): d is PCIDevice => d !== undefined).reverse();
  for (const d of devs) pciDevice(lines, d, `${ind}  `);
}

/** `info qtree` (qdev_print_devs): the system bus, its devices, the PCI tree below the host bridge. */
export function infoQtree(m: Machine): string {
  const lines = ['bus: main-system-bus', '  type System'];
  for (const d of [...m.systemDevices].reverse()) lines.push(`  dev: ${d.typeName}, id "${d.id ?? ''}"`);
  const host = m.describe().pciHosts[0]?.name ?? 'pci-host';
  lines.push(`  dev: ${host}, id ""`);
  pciBus(lines, m.rootBus, '    ');
  return lines.map((l) => `${l}\n`).join('');
}
