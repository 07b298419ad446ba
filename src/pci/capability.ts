import { ConfigSpace } from './config-space.js';
import {
  PCI_CAP_LIST_ID, PCI_CAP_LIST_NEXT, PCI_CAPABILITY_LIST, PCI_CONFIG_HEADER_SIZE, PCI_CONFIG_SPACE_SIZE,
  PCI_STATUS, PCI_STATUS_CAP_LIST, PCIE_CONFIG_SPACE_SIZE, pciExtCapHeader,
} from './regs.js';

/**
 * The capability list builders (QEMU hw/pci/pci.c pci_add_capability,
 * pci_find_capability; hw/pci/pcie.c pcie_add_capability). A standard
 * capability is a byte ID and a next pointer, linked from 0x34 (PCI 3.0
 * section 6.7); new capabilities go at the head of the list, as in QEMU. An
 * extended capability is a dword header at 0x100 and up (PCIe 6.0 section
 * 7.6.3), appended at the tail.
 */

/** pci_find_space: the first run of `size` unused bytes after the header. */
function findSpace(cs: ConfigSpace, size: number): number {
  let offset = PCI_CONFIG_HEADER_SIZE;
  for (let i = PCI_CONFIG_HEADER_SIZE; i < PCI_CONFIG_SPACE_SIZE; i++) {
    if (cs.used[i]) offset = i + 1;
    else if (i - offset + 1 === size) return offset;
  }
  return 0;
}

/**
 * Adds a capability of `size` bytes at `offset` (0: the first free space)
 * and returns its offset. Overlapping an existing capability is a
 * programming error in the device model and throws.
 */
export function addCapability(cs: ConfigSpace, capId: number, offset: number, size: number): number {
  if (!offset) {
    offset = findSpace(cs, size);
    if (!offset) throw new Error(`no room for PCI capability 0x${capId.toString(16)} of ${size} bytes`);
  } else {
    for (let i = offset; i < offset + size; i++) {
      if (cs.used[i]) {
        throw new Error(`PCI capability 0x${capId.toString(16)} at 0x${offset.toString(16)} overlaps an existing capability at 0x${i.toString(16)}`);
      }
    }
  }
  const c = cs.config;
  c[offset + PCI_CAP_LIST_ID] = capId;
  c[offset + PCI_CAP_LIST_NEXT] = c[PCI_CAPABILITY_LIST]!;
  c[PCI_CAPABILITY_LIST] = offset;
  c[PCI_STATUS] = c[PCI_STATUS]! | PCI_STATUS_CAP_LIST;
  cs.used.fill(0xff, offset, offset + ((size + 3) & ~3));
  cs.wmask.fill(0, offset, offset + size);
  cs.cmask.fill(0xff, offset, offset + size);
  return offset;
}

/** pci_find_capability: the offset of the first capability with `capId`, or 0. */
export function findCapability(cs: ConfigSpace, capId: number): number {
  if (!(cs.get16(PCI_STATUS) & PCI_STATUS_CAP_LIST)) return 0;
  const seen = new Set<number>();
  for (let p = cs.config[PCI_CAPABILITY_LIST]! & ~3; p && !seen.has(p); p = cs.config[p + PCI_CAP_LIST_NEXT]! & ~3) {
    seen.add(p);
    if (cs.config[p + PCI_CAP_LIST_ID] === capId) return p;
  }
  return 0;
}

/** Walks the extended list from 0x100: offsets and IDs in order. */
export function listExtCapabilities(cs: ConfigSpace): { offset: number; id: number; version: number }[] {
  const out: { offset: number; id: number; version: number }[] = [];
  if (cs.size < PCIE_CONFIG_SPACE_SIZE) return out;
  const seen = new Set<number>();
  for (let p = PCI_CONFIG_SPACE_SIZE; p && !seen.has(p) && p <= PCIE_CONFIG_SPACE_SIZE - 4;) {
    seen.add(p);
    const h = cs.get32(p);
    if (!h) break;
    out.push({ offset: p, id: h & 0xffff, version: (h >>> 16) & 0xf });
    p = (h >>> 20) & 0xffc;
  }
  return out;
}

/** pcie_find_capability: the offset of extended capability `capId`, or 0. */
export function findExtCapability(cs: ConfigSpace, capId: number): number {
  return listExtCapabilities(cs).find((c) => c.id === capId)?.offset ?? 0;
}

/**
 * pcie_add_capability: puts the header at `offset` (>= 0x100, the caller
 * chooses a free range) and links it after the last extended capability.
 * The capability is read-only until the caller sets write masks.
 */
export function addExtCapability(cs: ConfigSpace, capId: number, version: number, offset: number, size: number): number {
  if (cs.size < PCIE_CONFIG_SPACE_SIZE) throw new Error('extended capabilities need a PCIe (4 KiB) configuration space');
  if (offset < PCI_CONFIG_SPACE_SIZE || offset + size > PCIE_CONFIG_SPACE_SIZE || size < 8 || offset & 3) {
    throw new Error(`bad extended capability placement 0x${offset.toString(16)}+${size}`);
  }
  if (offset !== PCI_CONFIG_SPACE_SIZE) {
    const caps = listExtCapabilities(cs);
    const last = caps[caps.length - 1];
    if (!last) throw new Error('the first extended capability must be at 0x100');
    const h = cs.get32(last.offset);
    cs.set32(last.offset, ((h & 0x000fffff) | (offset << 20)) >>> 0);
  }
  cs.set32(offset, pciExtCapHeader(capId, version, 0));
  cs.wmask.fill(0, offset, offset + size);
  cs.w1cmask.fill(0, offset, offset + size);
  cs.cmask.fill(0xff, offset, offset + size);
  return offset;
}
