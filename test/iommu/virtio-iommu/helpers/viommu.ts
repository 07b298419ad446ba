import { VirtioHarness } from '../../../virtio/helpers/harness.js';

/** Requests laid out as linux/virtio_iommu.h says (the test's own reading of the spec). */
function req(size: number, fill: (v: DataView) => void): Uint8Array {
  const b = new Uint8Array(size);
  fill(new DataView(b.buffer));
  return b;
}
export const attachReq = (domain: number, ep: number, flags = 0, reserved = 0): Uint8Array => req(20, (v) => {
  v.setUint8(0, 1);
  v.setUint32(4, domain, true);
  v.setUint32(8, ep, true);
  v.setUint32(12, flags, true);
  v.setUint8(16, reserved);
});
export const detachReq = (domain: number, ep: number): Uint8Array => req(20, (v) => {
  v.setUint8(0, 2);
  v.setUint32(4, domain, true);
  v.setUint32(8, ep, true);
});
export const mapReq = (domain: number, start: bigint, end: bigint, phys: bigint, flags: number): Uint8Array => req(36, (v) => {
  v.setUint8(0, 3);
  v.setUint32(4, domain, true);
  v.setBigUint64(8, start, true);
  v.setBigUint64(16, end, true);
  v.setBigUint64(24, phys, true);
  v.setUint32(32, flags, true);
});
export const unmapReq = (domain: number, start: bigint, end: bigint, reserved = 0): Uint8Array => req(28, (v) => {
  v.setUint8(0, 4);
  v.setUint32(4, domain, true);
  v.setBigUint64(8, start, true);
  v.setBigUint64(16, end, true);
  v.setUint8(24, reserved);
});
export const probeReq = (ep: number): Uint8Array => req(72, (v) => {
  v.setUint8(0, 5);
  v.setUint32(4, ep, true);
});

export const S = { OK: 0, IOERR: 1, UNSUPP: 2, DEVERR: 3, INVAL: 4, RANGE: 5, NOENT: 6, FAULT: 7, NOMEM: 8 } as const;
/** Features: the iommu bits, INDIRECT_DESC, EVENT_IDX, VERSION_1. */
export const F_ALL = 0x1_3000_0077n;
export const F_NO_BYPASS_CONFIG = F_ALL & ~(1n << 6n);
export const F_NO_MMIO = F_ALL & ~(1n << 5n);

/** q35 with virtio-iommu-pci at 00:02.0 and edu at 00:03.0 (endpoint 0x18), driven through the request queue. */
export class ViommuDriver extends VirtioHarness {
  constructor(extra = '', features = F_ALL, edu = true) {
    super(`-machine q35 -nodefaults -display none -device virtio-iommu-pci,addr=2${extra} ${edu ? '-device edu,addr=3' : ''}`.trim());
    this.init(features);
  }
  /** Sends a request; returns its status (-1 when the buffers came back unwritten). */
  send(ro: Uint8Array, wo = 4): number {
    const r = this.submit(0, ro, wo);
    return r.used <= 0 ? -1 : r.out[r.used - 4]!;
  }
  attach(d: number, ep: number, flags = 0): number {
    return this.send(attachReq(d, ep, flags));
  }
  detach(d: number, ep: number): number {
    return this.send(detachReq(d, ep));
  }
  map(d: number, s: number | bigint, e: number | bigint, p: number | bigint, flags = 3): number {
    return this.send(mapReq(d, BigInt(s), BigInt(e), BigInt(p), flags));
  }
  unmap(d: number, s: number | bigint, e: number | bigint): number {
    return this.send(unmapReq(d, BigInt(s), BigInt(e)));
  }
}
