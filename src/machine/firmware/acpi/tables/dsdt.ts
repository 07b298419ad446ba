import type { PciHostBridge } from '../../description.js';
import {
  amlAddressSpace, amlDevice, amlEisaId, amlInt, amlIo, amlMemory32Fixed, amlNameDecl, amlResourceTemplate, amlScope,
  amlString, type Aml,
} from '../aml.js';
import { acpiTableBegin, acpiTableEnd, type AcpiTableGenerator } from '../acpi-table.js';

/** _CRS of a host bridge: its bus range and windows (QEMU build_crs, reduced). */
function hostCrs(h: PciHostBridge, x86: boolean): Aml {
  const d: Aml[] = [amlAddressSpace(2, 'bus', h.busStart, h.busEnd, 0, h.busEnd - h.busStart + 1)];
  if (x86 && h.busStart === 0) {
    // The 0xcf8 config ports, and I/O below them, belong to the root bridge.
    d.push(amlIo(0x0cf8, 0x0cf8, 0x01, 0x08));
    d.push(amlAddressSpace(2, 'io', 0, 0x0cf7, 0, 0x0cf8));
  }
  for (const w of h.windows) {
    const min = w.pciBase;
    const max = w.pciBase + w.size - 1;
    const tra = w.cpuBase - w.pciBase;
    if (w.kind === 'io') d.push(x86 ? amlAddressSpace(2, 'io', min, max, tra, w.size) : amlAddressSpace(4, 'io', min, max, tra, w.size));
    else if (w.kind === 'mem32') d.push(amlAddressSpace(4, 'memory', min, max, tra, w.size));
    else d.push(amlAddressSpace(8, 'memory', BigInt(min), BigInt(min) + BigInt(w.size) - 1n, BigInt(tra), BigInt(w.size)));
  }
  return amlResourceTemplate(...d);
}

/** A host bridge device PCIn / PCI0: PNP0A08 (PCI Express), compatible PNP0A03. */
function hostDevice(h: PciHostBridge, index: number, x86: boolean): Aml {
  const id = (s: string): Aml => (x86 ? amlEisaId(s) : amlString(s));
  const terms: Aml[] = [
    amlNameDecl('_HID', id('PNP0A08')),
    amlNameDecl('_CID', id('PNP0A03')),
    amlNameDecl('_SEG', amlInt(h.segment)),
    amlNameDecl('_BBN', amlInt(h.busStart)),
    amlNameDecl('_UID', amlInt(index)),
  ];
  if (!x86) terms.push(amlNameDecl('_CCA', amlInt(1)));
  terms.push(amlNameDecl('_CRS', hostCrs(h, x86)));
  if (h.ecam) {
    // The ECAM window is reserved by a motherboard resource device, as QEMU's DRAC / RES0.
    const e = h.ecam;
    terms.push(amlDevice('RES0',
      amlNameDecl('_HID', id('PNP0C02')),
      amlNameDecl('_CRS', amlResourceTemplate(
        e.base + e.size <= 2 ** 32
          ? amlAddressSpace(4, 'memory', e.base, e.base + e.size - 1, 0, e.size, 0x00)
          : amlAddressSpace(8, 'memory', BigInt(e.base), BigInt(e.base + e.size - 1), 0n, BigInt(e.size), 0x00)))));
  }
  return amlDevice(index === 0 ? 'PCI0' : `PC${index.toString(16).toUpperCase().padStart(2, '0')}`, ...terms);
}

/**
 * A minimal DSDT (ACPI 6.4 section 5.2.11.1): \_SB with the fw_cfg device
 * (QEMU0002, as QEMU's FWCF), the PCI host bridges with _SEG/_BBN/_CRS and
 * their ECAM reservation, and on Arm the processor devices (ACPI0007).
 * QEMU's DSDT also has PCI hotplug methods, _PRT interrupt routing, _OSC,
 * ISA devices and power buttons; those do not describe the DMA path and are
 * left out. Revision 1 on x86 (32-bit integers), 2 on Arm.
 */
export const dsdt: AcpiTableGenerator = {
  signature: 'DSDT',
  build(ctx) {
    const desc = ctx.desc;
    const x86 = desc.x86 !== undefined;
    const t = acpiTableBegin(ctx, 'DSDT', x86 ? 1 : 2, false);
    const sb: Aml[] = [];
    if (!x86) {
      for (let i = 0; i < desc.cpus; i++) {
        sb.push(amlDevice(`C${i.toString(16).toUpperCase().padStart(3, '0')}`,
          amlNameDecl('_HID', amlString('ACPI0007')), amlNameDecl('_UID', amlInt(i))));
      }
    }
    const fw = desc.fwCfg;
    if (fw) {
      const terms: Aml[] = [amlNameDecl('_HID', amlString('QEMU0002')), amlNameDecl('_STA', amlInt(0x0b))];
      if (fw.kind === 'io') terms.push(amlNameDecl('_CRS', amlResourceTemplate(amlIo(fw.base, fw.base, 0x01, 0x0c))));
      else terms.push(amlNameDecl('_CCA', amlInt(1)), amlNameDecl('_CRS', amlResourceTemplate(amlMemory32Fixed(fw.base, fw.size))));
      sb.push(amlDevice('FWCF', ...terms));
    }
    desc.pciHosts.forEach((h, i) => sb.push(hostDevice(h, i, x86)));
    ctx.tables.bytes(amlScope('\\_SB', ...sb));
    acpiTableEnd(ctx, t);
  },
};
