/**
 * The vhost IOTLB message ABI (Linux include/uapi/linux/vhost_types.h):
 *
 *   struct vhost_iotlb_msg { __u64 iova; __u64 size; __u64 uaddr; __u8 perm; __u8 type; }   32 bytes (8-aligned)
 *     iova @0, size @8, uaddr @16, perm @24, type @25
 *   struct vhost_msg    { int type;  union { struct vhost_iotlb_msg iotlb; __u8 padding[64]; }; }   72 bytes
 *   struct vhost_msg_v2 { __u32 type; __u32 asid; union { ... }; }                              72 bytes
 *     type @0, asid @4 (v2 only), iotlb @8
 *
 * Offsets as gcc lays them out on x86-64 (recorded in test/vhost/msg.test.ts).
 * Fields are little-endian. The 64-bit fields are control-path values that
 * reach 2^64 - 1 (a full-range INVALIDATE): they are bigint here.
 */
export const VHOST_IOTLB_MSG_SIZE = 32;
export const VHOST_MSG_SIZE = 72;
export const VHOST_MSG_IOTLB_OFFSET = 8;

/** vhost_iotlb_msg.perm. */
export const VHOST_ACCESS_RO = 0x1;
export const VHOST_ACCESS_WO = 0x2;
export const VHOST_ACCESS_RW = 0x3;

/** vhost_iotlb_msg.type. */
export const VHOST_IOTLB_MISS = 1;
export const VHOST_IOTLB_UPDATE = 2;
export const VHOST_IOTLB_INVALIDATE = 3;
export const VHOST_IOTLB_ACCESS_FAIL = 4;
export const VHOST_IOTLB_BATCH_BEGIN = 5;
export const VHOST_IOTLB_BATCH_END = 6;

/** vhost_msg.type / vhost_msg_v2.type. */
export const VHOST_IOTLB_MSG = 0x1;
export const VHOST_IOTLB_MSG_V2 = 0x2;

/** Backend feature bit numbers (VHOST_SET/GET_BACKEND_FEATURES take 1ULL << n). */
export const VHOST_BACKEND_F_IOTLB_MSG_V2 = 0x1;
export const VHOST_BACKEND_F_IOTLB_BATCH = 0x2;
export const VHOST_BACKEND_F_IOTLB_ASID = 0x3;
export const VHOST_BACKEND_F_SUSPEND = 0x4;

/** The backend features viommu's vhost offers (what the kernel's vhost-net offers: V2, batching, no ASID, no suspend). */
export const VHOST_NET_BACKEND_FEATURES = (1n << BigInt(VHOST_BACKEND_F_IOTLB_MSG_V2)) | (1n << BigInt(VHOST_BACKEND_F_IOTLB_BATCH));

/** QEMU's kernel backend asks only for MSG_V2 (hw/virtio/vhost-backend.c vhost_kernel_set_backend_cap). */
export const QEMU_KERNEL_BACKEND_FEATURES = 1n << BigInt(VHOST_BACKEND_F_IOTLB_MSG_V2);

export interface VhostIotlbMsg {
  iova: bigint;
  size: bigint;
  uaddr: bigint;
  perm: number;
  type: number;
}

/** A decoded vhost_msg (v1: asid 0) or vhost_msg_v2. */
export interface VhostMsg {
  version: 1 | 2;
  asid: number;
  iotlb: VhostIotlbMsg;
}

export function iotlbMsg(type: number, iova = 0n, size = 0n, uaddr = 0n, perm = 0): VhostIotlbMsg {
  return { iova, size, uaddr, perm, type };
}

/** Writes struct vhost_iotlb_msg at `off` (the trailing padding is zeroed). */
export function writeIotlbMsg(v: DataView, off: number, m: VhostIotlbMsg): void {
  v.setBigUint64(off, BigInt.asUintN(64, m.iova), true);
  v.setBigUint64(off + 8, BigInt.asUintN(64, m.size), true);
  v.setBigUint64(off + 16, BigInt.asUintN(64, m.uaddr), true);
  v.setUint8(off + 24, m.perm & 0xff);
  v.setUint8(off + 25, m.type & 0xff);
  for (let i = 26; i < VHOST_IOTLB_MSG_SIZE; i++) v.setUint8(off + i, 0);
}

export function readIotlbMsg(v: DataView, off: number): VhostIotlbMsg {
  return {
    iova: v.getBigUint64(off, true), size: v.getBigUint64(off + 8, true), uaddr: v.getBigUint64(off + 16, true),
    perm: v.getUint8(off + 24), type: v.getUint8(off + 25),
  };
}

/** Writes a whole 72-byte vhost_msg (version 1) or vhost_msg_v2 at `off`, the union's padding zeroed. */
export function writeVhostMsg(v: DataView, off: number, m: VhostMsg): void {
  v.setUint32(off, m.version === 2 ? VHOST_IOTLB_MSG_V2 : VHOST_IOTLB_MSG, true);
  v.setUint32(off + 4, m.version === 2 ? m.asid >>> 0 : 0, true);
  for (let i = VHOST_MSG_IOTLB_OFFSET + VHOST_IOTLB_MSG_SIZE; i < VHOST_MSG_SIZE; i++) v.setUint8(off + i, 0);
  writeIotlbMsg(v, off + VHOST_MSG_IOTLB_OFFSET, m.iotlb);
}

/** Reads a vhost_msg / vhost_msg_v2 by its type word; undefined for another type (the kernel's -EINVAL). */
export function readVhostMsg(v: DataView, off: number): VhostMsg | undefined {
  const type = v.getUint32(off, true);
  if (type !== VHOST_IOTLB_MSG && type !== VHOST_IOTLB_MSG_V2) return undefined;
  return {
    version: type === VHOST_IOTLB_MSG_V2 ? 2 : 1, asid: type === VHOST_IOTLB_MSG_V2 ? v.getUint32(off + 4, true) : 0,
    iotlb: readIotlbMsg(v, off + VHOST_MSG_IOTLB_OFFSET),
  };
}

/** The bytes of one message, as written to or read from the vhost fd. */
export function encodeVhostMsg(m: VhostMsg): Uint8Array {
  const b = new Uint8Array(VHOST_MSG_SIZE);
  writeVhostMsg(new DataView(b.buffer), 0, m);
  return b;
}

/** IOMMUAccessFlags (RO 1, WO 2, RW 3) to vhost perm, as vhost-backend.c's vhost_kernel_update_device_iotlb; undefined otherwise (-EINVAL). */
export function iommuPermToVhost(perm: number): number | undefined {
  if (perm === 1) return VHOST_ACCESS_RO;
  if (perm === 2) return VHOST_ACCESS_WO;
  if (perm === 3) return VHOST_ACCESS_RW;
  return undefined;
}

/** Names of the vhost IOTLB message types (vhost_types.h), for logs and traces. */
export const VHOST_IOTLB_TYPE_NAMES: Readonly<Record<number, string>> = {
  [VHOST_IOTLB_MISS]: 'MISS', [VHOST_IOTLB_UPDATE]: 'UPDATE', [VHOST_IOTLB_INVALIDATE]: 'INVALIDATE',
  [VHOST_IOTLB_ACCESS_FAIL]: 'ACCESS_FAIL', [VHOST_IOTLB_BATCH_BEGIN]: 'BATCH_BEGIN', [VHOST_IOTLB_BATCH_END]: 'BATCH_END',
};

/** "UPDATE iova 0x1000 size 0x1000 uaddr 0x7f0000001000 perm 3" for traces and tests. */
export function formatIotlbMsg(m: VhostIotlbMsg): string {
  const name = VHOST_IOTLB_TYPE_NAMES[m.type] ?? `type ${m.type}`;
  return `${name} iova 0x${m.iova.toString(16)} size 0x${m.size.toString(16)} uaddr 0x${m.uaddr.toString(16)} perm ${m.perm}`;
}
