/**
 * The frames the synthetic peer speaks (viommu's own protocol on the
 * virtual wire, EtherType 0x88B5 "IEEE 802 local experimental 1"):
 *
 *   Ethernet  dst[6] @0, src[6] @6, type be16 @12 = 0x88B5
 *   payload   op u8 @14, 0 @15, be16 0 @16, seq be32 @18, len be32 @22 (data bytes), sum be32 @26, data @30
 *
 * op ECHO: the peer sends the frame back with the addresses swapped; op
 * SINK: the peer keeps it; op GEN: data holds count be32 and bytes be32,
 * and the peer sends `count` DATA frames of `bytes` data bytes, seq 0..n-1,
 * with data[i] = (seq * 31 + i * 7) & 0xff. `sum` is FNV-1a over the data.
 */
export const ETH_P_VIOMMU = 0x88b5;
export const FRAME_HDR = 30;
export const OP_ECHO = 1;
export const OP_SINK = 2;
export const OP_GEN = 3;
export const OP_DATA = 4;
export const ETH_ZLEN = 60;

export function fnv1a(b: Uint8Array, start: number, end: number): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) h = Math.imul(h ^ b[i]!, 0x01000193);
  return h >>> 0;
}

export interface ParsedFrame {
  readonly op: number;
  readonly seq: number;
  readonly len: number;
  readonly sumOk: boolean;
}

/** The header of a viommu test frame, or undefined for anything else (too short, another EtherType, a length past the end). */
export function parseTestFrame(f: Uint8Array): ParsedFrame | undefined {
  if (f.length < FRAME_HDR) return undefined;
  const v = new DataView(f.buffer, f.byteOffset, f.length);
  if (v.getUint16(12) !== ETH_P_VIOMMU) return undefined;
  const len = v.getUint32(22);
  if (FRAME_HDR + len > f.length) return undefined;
  return { op: f[14]!, seq: v.getUint32(18), len, sumOk: fnv1a(f, FRAME_HDR, FRAME_HDR + len) === v.getUint32(26) };
}

/** A DATA frame as the peer generates it. */
export function buildDataFrame(dst: Uint8Array, src: Uint8Array, seq: number, bytes: number): Uint8Array {
  const f = new Uint8Array(Math.max(ETH_ZLEN, FRAME_HDR + bytes));
  f.set(dst.subarray(0, 6), 0);
  f.set(src.subarray(0, 6), 6);
  const v = new DataView(f.buffer);
  v.setUint16(12, ETH_P_VIOMMU);
  f[14] = OP_DATA;
  v.setUint32(18, seq);
  v.setUint32(22, bytes);
  for (let i = 0; i < bytes; i++) f[FRAME_HDR + i] = (seq * 31 + i * 7) & 0xff;
  v.setUint32(26, fnv1a(f, FRAME_HDR, FRAME_HDR + bytes));
  return f;
}
