/** u64 values as two u32 halves and back (virtio-iommu's 64-bit fields; control path). */
/** A u64 as halves. */
export interface U64 {
  readonly hi: number;
  readonly lo: number;
}

export function u64(v: bigint): U64 {
  const m = BigInt.asUintN(64, v);
  return { hi: Number(m >> 32n), lo: Number(m & 0xffff_ffffn) };
}
export function big(hi: number, lo: number): bigint {
  return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
}

/** A mapping as plain data (control path). */
export interface Mapping {
  readonly start: bigint;
  readonly end: bigint;
  readonly phys: bigint;
  readonly flags: number;
}

