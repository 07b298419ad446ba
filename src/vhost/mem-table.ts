import type { AddressSpace } from '../memory/address-space.js';
import type { RamBlock } from '../memory/ram-block.js';
import { RamRegion } from '../memory/region.js';

/** struct vhost_memory_region: guest_phys_addr, memory_size, userspace_addr (numbers: below 2^53 here). */
export interface VhostMemoryRegion {
  readonly guestPhysAddr: number;
  readonly memorySize: number;
  readonly userspaceAddr: number;
}

/** A RAM block as the backend maps it: its "userspace" base address and its buffer. */
export interface VhostRamMapping {
  readonly uaddr: number;
  readonly size: number;
  readonly sab: SharedArrayBuffer;
}

/** Where the first RAM block sits in the synthetic process address space (a typical x86-64 mmap area). */
export const VHOST_UADDR_BASE = 0x7f00_0000_0000;
const BLOCK_ALIGN = 0x4000_0000;

/**
 * The vhost memory table (VHOST_SET_MEM_TABLE; QEMU hw/virtio/vhost.c's
 * "vhost" listener on address_space_memory, which takes non-ROM RAM
 * sections): guest-physical ranges and the "userspace" address each maps
 * to. viommu places every RAM block of the memory system at a fixed
 * synthetic host address (VHOST_UADDR_BASE, 1 GiB aligned, in block
 * order), so an UPDATE's uaddr names a byte of one block's buffer.
 */
export class VhostMemTable {
  constructor(readonly regions: readonly VhostMemoryRegion[], readonly mappings: readonly VhostRamMapping[]) {}

  /** Builds the table from the RAM sections of `as` (address_space_memory), readonly (ROM) ones left out. */
  static fromAddressSpace(as: AddressSpace, blocks: readonly RamBlock[]): VhostMemTable {
    const mappings = blockMappings(blocks);
    const base = new Map<RamBlock, number>();
    blocks.forEach((b, i) => base.set(b, mappings[i]!.uaddr));
    const regions: VhostMemoryRegion[] = [];
    for (const fr of as.view.ranges) {
      if (!(fr.mr instanceof RamRegion) || fr.readonly) continue;
      const u = base.get(fr.mr.block);
      if (u === undefined) continue;
      regions.push({ guestPhysAddr: fr.startN, memorySize: fr.endN - fr.startN, userspaceAddr: u + fr.offsetN });
    }
    return new VhostMemTable(regions, mappings);
  }

  /** vhost_memory_region_lookup: the uaddr of `gpa` and the bytes left in its region, or undefined. */
  lookup(gpa: number): { uaddr: number; len: number } | undefined {
    for (const r of this.regions) {
      if (gpa >= r.guestPhysAddr && gpa < r.guestPhysAddr + r.memorySize) {
        return { uaddr: r.userspaceAddr + gpa - r.guestPhysAddr, len: r.memorySize - (gpa - r.guestPhysAddr) };
      }
    }
    return undefined;
  }

  /** The guest-physical address a uaddr stands for (the oracle's gpa), or undefined. */
  gpaOf(uaddr: number): number | undefined {
    for (const r of this.regions) {
      if (uaddr >= r.userspaceAddr && uaddr < r.userspaceAddr + r.memorySize) return r.guestPhysAddr + uaddr - r.userspaceAddr;
    }
    return undefined;
  }
}

/** Each block's synthetic host address: consecutive, 1 GiB aligned, from VHOST_UADDR_BASE. */
export function blockMappings(blocks: readonly RamBlock[]): VhostRamMapping[] {
  let u = VHOST_UADDR_BASE;
  return blocks.map((b) => {
    const m = { uaddr: u, size: b.size, sab: b.sab };
    u += Math.ceil(b.size / BLOCK_ALIGN) * BLOCK_ALIGN;
    return m;
  });
}
