const U64_MAX = (1n << 64n) - 1n;

/**
 * dma_aligned_pow2_mask (QEMU softmmu/dma-helpers.c): the mask of the
 * largest naturally aligned power-of-two block that starts at `start` and
 * ends at or before `end`.
 */
export function dmaAlignedPow2Mask(start: bigint, end: bigint): bigint {
  const addrMask = end - start;
  const alignmentMask = start ? (start & -start) - 1n : U64_MAX;
  if (alignmentMask <= addrMask) return alignmentMask;
  if (addrMask === U64_MAX) return U64_MAX;
  let top = 0n;
  for (let v = addrMask + 1n; v > 1n; v >>= 1n) top++;
  return (1n << top) - 1n;
}

/** One notification: IOVA, mask (size - 1) and the translated address of the chunk. */
export interface Pow2Chunk {
  readonly iova: bigint;
  readonly addrMask: bigint;
  readonly translated: bigint;
}

/**
 * virtio_iommu_notify_map_unmap: [start, end] as aligned power-of-two
 * chunks, each translating to `phys` plus its offset (UNMAP chunks carry 0).
 * The whole 64-bit space is a single event.
 */
export function pow2Chunks(start: bigint, end: bigint, phys: bigint, isMap: boolean): Pow2Chunk[] {
  if (end - start === U64_MAX) return [{ iova: start, addrMask: U64_MAX, translated: isMap ? phys : 0n }];
  const out: Pow2Chunk[] = [];
  let s = start;
  let p = phys;
  while (s !== end + 1n) {
    const mask = dmaAlignedPow2Mask(s, end);
    out.push({ iova: s, addrMask: mask, translated: isMap ? p : 0n });
    s += mask + 1n;
    p += mask + 1n;
  }
  return out;
}
