import type { PciFunction, VirtioPciCap } from './device.js';
import {
  PCI_CAP_ID_EXP, PCI_CAP_ID_VNDR, PCI_CAPABILITY_LIST, PCI_CFG_SPACE_SIZE, PCI_EXT_CAP_TTL, PCI_FIND_CAP_TTL,
  PCI_STATUS, PCI_STATUS_CAP_LIST, VIRTIO_PCI_CAP_BAR, VIRTIO_PCI_CAP_CFG_TYPE, VIRTIO_PCI_CAP_ID, VIRTIO_PCI_CAP_LENGTH,
  VIRTIO_PCI_CAP_NOTIFY_CFG, VIRTIO_PCI_CAP_OFFSET, VIRTIO_PCI_NOTIFY_CAP_MULT,
} from './regs.js';

/** virtio's PCI vendor ID (virtio 1.2 section 4.1.2). */
export const PCI_VENDOR_ID_REDHAT_QUMRANET = 0x1af4;

/**
 * Walks the capability list (PCI 3.0 section 6.7) the way Linux
 * __pci_find_next_cap_ttl does: pointers below 0x40 end it, the low two bits
 * are ignored, an ID of 0xff ends it, at most 48 entries. Then the extended
 * list from 0x100 (PCIe 4.0 section 7.6.3) where it is reachable, and the
 * virtio vendor capabilities of a virtio function.
 */
export function readCapabilities(fn: PciFunction): void {
  fn.caps = [];
  fn.extCaps = [];
  fn.virtioCaps = [];
  fn.pcieCap = undefined;
  if (fn.read(PCI_STATUS, 2) & PCI_STATUS_CAP_LIST) {
    let pos = fn.read(PCI_CAPABILITY_LIST, 1);
    const seen = new Set<number>();
    for (let ttl = PCI_FIND_CAP_TTL; ttl > 0; ttl--) {
      if (pos < 0x40) break;
      pos &= ~3;
      if (seen.has(pos)) break;
      seen.add(pos);
      const id = fn.read(pos, 1);
      if (id === 0xff) break;
      fn.caps.push({ id, offset: pos });
      if (id === PCI_CAP_ID_EXP && fn.pcieCap === undefined) fn.pcieCap = pos;
      pos = fn.read(pos + 1, 1);
    }
  }
  if (fn.pcieCap !== undefined && fn.cfg.size > PCI_CFG_SPACE_SIZE) {
    let pos = PCI_CFG_SPACE_SIZE;
    const seen = new Set<number>();
    for (let ttl = PCI_EXT_CAP_TTL; ttl > 0; ttl--) {
      const header = fn.read(pos, 4) >>> 0;
      if (header === 0 || header === 0xffffffff) break;
      if (seen.has(pos)) break;
      seen.add(pos);
      fn.extCaps.push({ id: header & 0xffff, version: (header >>> 16) & 0xf, offset: pos });
      const next = (header >>> 20) & 0xffc;
      if (next < PCI_CFG_SPACE_SIZE) break;
      pos = next;
    }
  }
  if (fn.vendor === PCI_VENDOR_ID_REDHAT_QUMRANET) {
    for (const c of fn.caps) {
      if (c.id !== PCI_CAP_ID_VNDR) continue;
      const capLen = fn.read(c.offset + 2, 1);
      if (capLen < 16) continue; // too short for struct virtio_pci_cap
      const cap: VirtioPciCap = {
        capOffset: c.offset,
        cfgType: fn.read(c.offset + VIRTIO_PCI_CAP_CFG_TYPE, 1),
        bar: fn.read(c.offset + VIRTIO_PCI_CAP_BAR, 1),
        id: fn.read(c.offset + VIRTIO_PCI_CAP_ID, 1),
        offset: fn.read(c.offset + VIRTIO_PCI_CAP_OFFSET, 4) >>> 0,
        length: fn.read(c.offset + VIRTIO_PCI_CAP_LENGTH, 4) >>> 0,
        ...(fn.read(c.offset + VIRTIO_PCI_CAP_CFG_TYPE, 1) === VIRTIO_PCI_CAP_NOTIFY_CFG && capLen >= 20
          ? { notifyOffMultiplier: fn.read(c.offset + VIRTIO_PCI_NOTIFY_CAP_MULT, 4) >>> 0 }
          : {}),
      };
      fn.virtioCaps.push(cap);
    }
  }
}
