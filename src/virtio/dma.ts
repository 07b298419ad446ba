import type { AddressSpace } from '../memory/address-space.js';
import { MEMTX_OK, type MemTxAttrs } from '../memory/attrs.js';
import { AccessResult } from '../memory/mmio-dispatch.js';

/** 2^53: ring and buffer addresses above it cannot be numbers and are refused as bogus. */
const MAX_ADDR_HI = 0x20_0000;
const TWO32 = 0x1_0000_0000;

/**
 * Where a virtio device's rings and buffers live (QEMU vdev->dma_as): the
 * function's bus-master address space when VIRTIO_F_ACCESS_PLATFORM is
 * negotiated (so through the platform IOMMU), else system memory directly
 * (virtio 1.2 section 6.1: the device uses physical addresses). Accesses
 * carry the function's requester ID. Failures come back as false / -1.
 */
export class VirtioDma {
  private readonly acc = new AccessResult();

  constructor(readonly as: AddressSpace, readonly attrs: MemTxAttrs) {}

  read(addr: number, dst: Uint8Array): boolean {
    return this.as.readBytes(addr, dst, this.attrs) === MEMTX_OK;
  }
  write(addr: number, src: Uint8Array): boolean {
    return this.as.writeBytes(addr, src, this.attrs) === MEMTX_OK;
  }
  /** A little-endian u16, or -1. */
  ld16(addr: number): number {
    const r = this.as.read(addr, 2, this.attrs, this.acc);
    return r.result === MEMTX_OK ? r.lo & 0xffff : -1;
  }
  /** A little-endian u32, or -1. */
  ld32(addr: number): number {
    const r = this.as.read(addr, 4, this.attrs, this.acc);
    return r.result === MEMTX_OK ? r.lo >>> 0 : -1;
  }
  /** A little-endian u64 below 2^53, or -1 (failed access or an address a number cannot hold). */
  ld64(addr: number): number {
    const r = this.as.read(addr, 8, this.attrs, this.acc);
    if (r.result !== MEMTX_OK || r.hi >>> 0 >= MAX_ADDR_HI) return -1;
    return (r.hi >>> 0) * TWO32 + (r.lo >>> 0);
  }
  st16(addr: number, v: number): boolean {
    return this.as.write(addr, 2, v & 0xffff, 0, this.attrs) === MEMTX_OK;
  }
  st32(addr: number, v: number): boolean {
    return this.as.write(addr, 4, v >>> 0, 0, this.attrs) === MEMTX_OK;
  }
}
