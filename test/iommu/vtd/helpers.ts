import { parseCmdline } from '../../../src/machine/cmdline.js';
import { IntelIommuDevice } from '../../../src/machine/devices/intel-iommu.js';
import { Machine } from '../../../src/machine/machine.js';
import type { PCIDevice } from '../../../src/pci/device.js';
import type { IntelIommu, VtdAddressSpace } from '../../../src/iommu/vtd/index.js';

export const BASE = 0xfed90000;
export const R = {
  VER: 0x00, CAP: 0x08, ECAP: 0x10, GCMD: 0x18, GSTS: 0x1c, RTADDR: 0x20, CCMD: 0x28, FSTS: 0x34, FECTL: 0x38,
  FEDATA: 0x3c, FEADDR: 0x40, IQH: 0x80, IQT: 0x88, IQA: 0x90, ICS: 0x9c, IECTL: 0xa0, IRTA: 0xb8, IVA: 0xf0, IOTLB: 0xf8,
  FRCD_LO: 0x220, FRCD_HI: 0x228,
} as const;
export const TE = 0x80000000;
export const SRTP = 0x40000000;
export const QIE = 0x04000000;

/** Where the tests' guest keeps its structures (q35 has 128 MiB of RAM from 0). */
export const ROOT = 0x100000;
export const CTX = 0x101000;
export const QUEUE = 0x102000;
export const STATUS = 0x103000;
/** Page tables are allocated from here up. */
export const PT = 0x110000;

/**
 * A q35 machine with intel-iommu and an edu at 00:01.0 (SID 0x0008), driven
 * the way a guest CPU drives it: register reads and writes at 0xfed90000,
 * tables and descriptors written into RAM; the edu's DMA goes through its
 * bus-master address space (Bus Master Enable set).
 */
export function vtdMachine(props = '', extra: string[] = []) {
  const m = Machine.create(parseCmdline(['-M', 'q35', '-nodefaults', '-display', 'none', '-device',
    `intel-iommu${props ? `,${props}` : ''}`, '-device', 'edu', ...extra]).config);
  const vtd: IntelIommu = (m.systemDevices.find((d) => d instanceof IntelIommuDevice) as IntelIommuDevice).vtd;
  const edu = m.pciDevices().find((d) => d.typeName === 'edu')!;
  edu.configWrite(4, 0x6, 2);
  const mem = m.systemAs;
  const r32 = (off: number) => mem.read(BASE + off, 4).lo >>> 0;
  const r64 = (off: number) => {
    const r = mem.read(BASE + off, 8);
    return (BigInt(r.hi >>> 0) << 32n) | BigInt(r.lo >>> 0);
  };
  const w32 = (off: number, v: number) => mem.write(BASE + off, 4, v >>> 0);
  const w64 = (off: number, v: number | bigint) => {
    const b = BigInt(v);
    mem.write(BASE + off, 8, Number(b & 0xffffffffn), Number(b >> 32n));
  };
  const st64 = (addr: number, v: number | bigint) => {
    const b = BigInt(v);
    mem.write(addr, 8, Number(b & 0xffffffffn), Number(b >> 32n));
  };
  const ld32 = (addr: number) => mem.read(addr, 4).lo >>> 0;
  /** vtd_gcmd_or: GCMD = GSTS | bit. */
  const gcmdOr = (bit: number) => w32(R.GCMD, (r32(R.GSTS) | bit) >>> 0);
  let nextPt = PT;
  const page = () => {
    const a = nextPt;
    nextPt += 0x1000;
    mem.writeBytes(a, new Uint8Array(0x1000));
    return a;
  };
  mem.writeBytes(ROOT, new Uint8Array(0x1000));
  mem.writeBytes(CTX, new Uint8Array(0x1000));
  /** Root entry for bus 0 -> CTX; context entry for `devfn`: raw lo/hi. */
  const context = (devfn: number, lo: number | bigint, hi: number | bigint) => {
    st64(ROOT, CTX | 1);
    st64(CTX + devfn * 16, lo);
    st64(CTX + devfn * 16 + 8, hi);
  };
  /** A second-level table of `levels` with a 4K leaf for iova -> gpa (rw: 1 R, 2 W); returns the root. */
  const tables = new Map<number, number>();
  const map = (root: number, levels: number, iova: number, gpa: number, rw = 3, leafLevel = 1) => {
    let table = root;
    for (let level = levels; level > leafLevel; level--) {
      const idx = Math.floor(iova / 2 ** (12 + 9 * (level - 1))) % 512;
      const key = table * 512 + idx;
      let next = tables.get(key);
      if (next === undefined) {
        next = page();
        tables.set(key, next);
        st64(table + idx * 8, next | 3);
      }
      table = next;
    }
    const idx = Math.floor(iova / 2 ** (12 + 9 * (leafLevel - 1))) % 512;
    st64(table + idx * 8, BigInt(gpa) | BigInt(rw) | (leafLevel > 1 ? 0x80n : 0n));
  };
  /** The standard set-up: edu's context (AW=1, DID `did`), root table latched, translation on. */
  const bringUp = (opts: { did?: number; fpd?: boolean; tt?: number; aw?: number } = {}) => {
    const slpt = page();
    const lo = BigInt(slpt) | 1n | (opts.fpd ? 2n : 0n) | (BigInt(opts.tt ?? 0) << 2n);
    context(8, lo, ((opts.did ?? 1) << 8) | (opts.aw ?? 1));
    w64(R.RTADDR, ROOT);
    gcmdOr(SRTP);
    gcmdOr(TE);
    return slpt;
  };
  const das = (): VtdAddressSpace => vtd.addressSpace(edu.bus, edu.devfn);
  /** Device DMA through the IOMMU. */
  const dmaRead = (iova: number, len = 4) => {
    const buf = new Uint8Array(len);
    const res = edu.dmaRead(iova, buf);
    return { res, buf };
  };
  const dmaWrite = (iova: number, data: number[]) => edu.dmaWrite(iova, Uint8Array.from(data));
  /** QI: enable with the queue at QUEUE (256 entries); submit(descs) writes them at the tail and moves IQT. */
  let tail = 0;
  const qiOn = () => {
    mem.writeBytes(QUEUE, new Uint8Array(0x1000));
    w64(R.IQA, QUEUE);
    gcmdOr(QIE);
    tail = 0;
  };
  const submit = (...descs: [bigint, bigint][]) => {
    for (const [lo, hi] of descs) {
      st64(QUEUE + tail * 16, lo);
      st64(QUEUE + tail * 16 + 8, hi);
      tail = (tail + 1) % 256;
    }
    w64(R.IQT, tail << 4);
  };
  /** A wait descriptor with SW writing `data` at STATUS. */
  const waitDesc = (data = 1): [bigint, bigint] => [(BigInt(data) << 32n) | 0x25n, BigInt(STATUS)];
  const psi = (did: number, addr: number, am: number, ih = false): [bigint, bigint] =>
    [(BigInt(did) << 16n) | 0x32n, BigInt(addr) | (ih ? 0x40n : 0n) | BigInt(am)];
  const dsi = (did: number): [bigint, bigint] => [(BigInt(did) << 16n) | 0x22n, 0n];
  const clearFault = () => {
    w32(R.FRCD_HI + 4, 0x80000000);
    w32(R.FSTS, 0x11);
  };
  /** The pending fault: reason, T (1 = read), SID, address, or undefined. */
  const frcd = () => {
    const hi = r64(R.FRCD_HI);
    if (!(hi >> 63n)) return undefined;
    return { reason: Number((hi >> 32n) & 0xffn), read: Number((hi >> 62n) & 1n), sid: Number(hi & 0xffffn), addr: Number(r64(R.FRCD_LO)) };
  };
  return {
    m, vtd, edu: edu as PCIDevice, mem, r32, r64, w32, w64, st64, ld32, gcmdOr, page, context, map, bringUp, das, dmaRead,
    dmaWrite, qiOn, submit, waitDesc, psi, dsi, clearFault, frcd,
  };
}
