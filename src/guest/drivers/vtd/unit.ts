import { EINVAL, ENOMEM, ETIMEDOUT } from '../../errno.js';
import type { GuestKernel } from '../../kernel.js';
import { PAGE_SIZE } from '../../page-alloc.js';
import type { Drhd } from './dmar.js';
import {
  cap, DMA_FSTS_IQE, DMA_GCMD_QIE, DMA_GCMD_SRTP, DMA_GCMD_TE, DMA_GSTS_QIES, DMA_GSTS_RTPS, DMA_GSTS_TES, DMAR_CAP_REG,
  DMAR_ECAP_REG, DMAR_FSTS_REG, DMAR_GCMD_REG, DMAR_GSTS_REG, DMAR_IQA_REG, DMAR_IQH_REG, DMAR_IQT_REG, DMAR_RTADDR_REG,
  DMAR_VER_REG, ecap, QI_CC_GRAN_DEVICE, QI_CC_GRAN_GLOBAL, QI_CC_TYPE, QI_DIOTLB_TYPE, QI_DONE, QI_IOTLB_DR, QI_IOTLB_DW,
  QI_IOTLB_GRAN_DOMAIN, QI_IOTLB_GRAN_GLOBAL, QI_IOTLB_GRAN_PAGE, QI_IOTLB_IH, QI_IOTLB_TYPE, QI_IWD_STATUS_WRITE, QI_IWD_TYPE,
} from './regs.js';

const TWO32 = 0x1_0000_0000;
/** 256 descriptors of 16 bytes: one page, IQA.QS = 0. */
const QI_LENGTH = 256;
const POLL_STEP_NS = 1000;
const POLL_TIMEOUT_NS = 1_000_000_000;

/** A 128-bit invalidation descriptor as quadword halves: [q0lo, q0hi, q1lo, q1hi]. */
export type QiDesc = readonly [number, number, number, number];

function hexNoPad(v: number): string {
  return v.toString(16);
}

/**
 * One DMA-remapping hardware unit as Linux's intel-iommu drives it (struct
 * intel_iommu; drivers/iommu/intel/iommu.c, dmar.c): its registers, the
 * invalidation queue (qi_submit_sync: descriptors, then a wait descriptor
 * whose status write says they completed), the root table and the
 * per-bus context tables, and domain-id allocation.
 */
export class DmarUnit {
  readonly capLo: number;
  readonly capHi: number;
  readonly ecapLo: number;
  readonly ecapHi: number;
  /** Levels of the page tables domains get (from SAGAW, at most 4 = 48 bits). */
  readonly levels: number;
  /** Address width of those tables, cut to MGAW. */
  readonly addressBits: number;
  /** Persistent GCMD bits (TE, QIE); one-shot bits are written on top. */
  private gcmd = 0;
  rootTable = 0;
  private readonly contextTables = new Map<number, number>();
  private qiDesc = 0;
  private qiStatus = 0;
  private qiTail = 0;
  qiEnabled = false;
  private nextDid = 2;
  readonly freeDids: number[] = [];
  readonly stats = { contextFlushes: 0, iotlbPsi: 0, iotlbDsi: 0, iotlbGlobal: 0, devTlb: 0, waits: 0, queueErrors: 0 };

  constructor(readonly k: GuestKernel, readonly drhd: Drhd, readonly index: number) {
    this.capLo = this.r32(DMAR_CAP_REG);
    this.capHi = this.r32(DMAR_CAP_REG + 4);
    this.ecapLo = this.r32(DMAR_ECAP_REG);
    this.ecapHi = this.r32(DMAR_ECAP_REG + 4);
    // iommu_calculate_agaw: the widest supported table up to 48 bits.
    const sagaw = cap.sagaw(this.capLo);
    this.levels = sagaw & 4 ? 4 : sagaw & 2 ? 3 : 0;
    this.addressBits = Math.min(30 + 9 * (this.levels - 2), cap.mgaw(this.capLo));
  }

  get name(): string {
    return `dmar${this.index}`;
  }
  get base(): number {
    return this.drhd.base;
  }
  get cachingMode(): boolean {
    return cap.cachingMode(this.capLo) === 1;
  }
  get hasPt(): boolean {
    return ecap.pt(this.ecapLo) === 1;
  }
  get hasDt(): boolean {
    return ecap.dt(this.ecapLo) === 1;
  }
  get hasSnoopControl(): boolean {
    return ecap.sc(this.ecapLo) === 1;
  }
  /** Page sizes the tables can map: 4K, and 2M / 1G per CAP.SSLPS. */
  get pgsizes(): number[] {
    const s = cap.sslps(this.capHi);
    return [4096, ...(s & 1 ? [2 << 20] : []), ...(s & 2 ? [1 << 30] : [])];
  }

  r32(off: number): number {
    return this.k.port.read(this.base + off, 4).lo >>> 0;
  }
  w32(off: number, v: number): void {
    this.k.port.write(this.base + off, 4, v >>> 0);
  }
  w64(off: number, v: number): void {
    this.k.port.write(this.base + off, 8, v % TWO32, Math.floor(v / TWO32));
  }
  st64(addr: number, lo: number, hi: number): void {
    this.k.port.write(addr, 8, lo >>> 0, hi >>> 0);
  }
  ld64(addr: number): { lo: number; hi: number } {
    const r = this.k.port.read(addr, 8);
    return { lo: r.lo >>> 0, hi: r.hi >>> 0 };
  }

  /** A zeroed page from the guest's allocator. */
  zeroPage(): number | undefined {
    const p = this.k.mem.alloc(PAGE_SIZE);
    if (p !== undefined) this.k.port.writeBytes(p, new Uint8Array(PAGE_SIZE));
    return p;
  }

  /** Waits for a GSTS bit to reach `on` (IOMMU_WAIT_OP). */
  private waitGsts(bit: number, on: boolean): boolean {
    return this.k.clock.pollUntil(() => ((this.r32(DMAR_GSTS_REG) & bit) !== 0) === on, POLL_STEP_NS, POLL_TIMEOUT_NS);
  }

  /** "dmar0: reg_base_addr fed90000 ver 1:0 cap ... ecap ..." */
  describe(): string {
    const ver = this.r32(DMAR_VER_REG);
    const q = (lo: number, hi: number) => (hi ? hexNoPad(hi) + lo.toString(16).padStart(8, '0') : hexNoPad(lo));
    return `${this.name}: reg_base_addr ${hexNoPad(this.base)} ver ${(ver >> 4) & 0xf}:${ver & 0xf} cap ${q(this.capLo, this.capHi)} ecap ${q(this.ecapLo, this.ecapHi)}`;
  }

  /**
   * init_dmars for this unit: translation off if firmware left it on, the
   * invalidation queue (dmar_enable_qi), a root table (iommu_set_root_entry),
   * global context and IOTLB flushes. Translation is enabled later
   * (enableTranslation), once the default domains are attached.
   */
  init(): number {
    if (this.r32(DMAR_GSTS_REG) & DMA_GSTS_TES) {
      this.w32(DMAR_GCMD_REG, 0);
      this.waitGsts(DMA_GSTS_TES, false);
    }
    if (!ecap.qi(this.ecapLo)) return -EINVAL;
    const desc = this.zeroPage();
    const status = this.zeroPage();
    const root = this.zeroPage();
    if (desc === undefined || status === undefined || root === undefined) return -ENOMEM;
    this.qiDesc = desc;
    this.qiStatus = status;
    this.qiTail = 0;
    this.w32(DMAR_IQT_REG, 0);
    this.w64(DMAR_IQA_REG, desc);
    this.gcmd |= DMA_GCMD_QIE;
    this.w32(DMAR_GCMD_REG, this.gcmd);
    if (!this.waitGsts(DMA_GSTS_QIES, true)) return -ETIMEDOUT;
    this.qiEnabled = true;
    this.k.log.info('DMAR', `${this.name}: Using Queued invalidation`);
    this.rootTable = root;
    this.w64(DMAR_RTADDR_REG, root);
    this.w32(DMAR_GCMD_REG, this.gcmd | DMA_GCMD_SRTP);
    if (!this.waitGsts(DMA_GSTS_RTPS, true)) return -ETIMEDOUT;
    return this.submit([this.ccGlobal(), this.iotlbGlobal()]);
  }

  /** iommu_enable_translation. */
  enableTranslation(): number {
    this.gcmd |= DMA_GCMD_TE;
    this.w32(DMAR_GCMD_REG, this.gcmd);
    return this.waitGsts(DMA_GSTS_TES, true) ? 0 : -ETIMEDOUT;
  }

  /** A domain id (DID 0 is reserved, 1 is the pass-through domain's, as Linux's FLPT_DEFAULT_DID). */
  allocDid(): number {
    return this.freeDids.pop() ?? this.nextDid++;
  }
  freeDid(did: number): void {
    if (did >= 2) this.freeDids.push(did);
  }

  /** The context table of `bus` (allocated and linked from the root entry on first use), or undefined. */
  contextTable(bus: number, create: boolean): number | undefined {
    let t = this.contextTables.get(bus);
    if (t === undefined && create) {
      t = this.zeroPage();
      if (t === undefined) return undefined;
      this.contextTables.set(bus, t);
      // Root entry (9.1): CTP [63:12], P bit 0. Not present -> present: no invalidation needed.
      this.st64(this.rootTable + bus * 16, (t | 1) >>> 0, Math.floor(t / TWO32));
      this.st64(this.rootTable + bus * 16 + 8, 0, 0);
    }
    return t;
  }

  /**
   * qi_submit_sync: the descriptors, then a wait descriptor with status
   * write; IQT moves past them; the driver polls the status dword. An
   * invalidation queue error on one of ours is reported and cleared (the
   * bad descriptor is replaced by the wait, as qi_check_fault does).
   */
  submit(descs: readonly QiDesc[]): number {
    if (!this.qiEnabled) return -EINVAL;
    const port = this.k.port;
    port.write(this.qiStatus, 4, 0);
    const wait: QiDesc = [QI_IWD_TYPE | QI_IWD_STATUS_WRITE, QI_DONE, this.qiStatus % TWO32, Math.floor(this.qiStatus / TWO32)];
    const start = this.qiTail;
    for (const d of [...descs, wait]) {
      const at = this.qiDesc + this.qiTail * 16;
      this.st64(at, d[0], d[1]);
      this.st64(at + 8, d[2], d[3]);
      this.qiTail = (this.qiTail + 1) % QI_LENGTH;
    }
    this.stats.waits++;
    this.w32(DMAR_IQT_REG, this.qiTail << 4);
    const done = () => port.read(this.qiStatus, 4).lo === QI_DONE;
    if (this.r32(DMAR_FSTS_REG) & DMA_FSTS_IQE) {
      const head = (this.r32(DMAR_IQH_REG) >>> 4) & 0x7fff;
      this.stats.queueErrors++;
      this.k.log.err('DMAR', `${this.name}: Invalidation Queue Error (IQE) at index ${head} (submitted from ${start}), cleared`);
      const at = this.qiDesc + head * 16;
      this.st64(at, wait[0], wait[1]);
      this.st64(at + 8, wait[2], wait[3]);
      this.w32(DMAR_FSTS_REG, DMA_FSTS_IQE);
      this.w32(DMAR_IQT_REG, this.qiTail << 4);
      return -EINVAL;
    }
    return this.k.clock.pollUntil(done, POLL_STEP_NS, POLL_TIMEOUT_NS) ? 0 : -ETIMEDOUT;
  }

  // Descriptors (spec 6.5.2).
  ccGlobal(): QiDesc {
    this.stats.contextFlushes++;
    return [QI_CC_TYPE | QI_CC_GRAN_GLOBAL, 0, 0, 0];
  }
  /** Context-cache device-selective: DID [31:16], SID [47:32], FM 0. */
  ccDevice(sid: number, did: number): QiDesc {
    this.stats.contextFlushes++;
    return [(QI_CC_TYPE | QI_CC_GRAN_DEVICE | (did << 16)) >>> 0, sid & 0xffff, 0, 0];
  }
  iotlbGlobal(): QiDesc {
    this.stats.iotlbGlobal++;
    return [QI_IOTLB_TYPE | QI_IOTLB_GRAN_GLOBAL | QI_IOTLB_DR | QI_IOTLB_DW, 0, 0, 0];
  }
  iotlbDomain(did: number): QiDesc {
    this.stats.iotlbDsi++;
    return [(QI_IOTLB_TYPE | QI_IOTLB_GRAN_DOMAIN | QI_IOTLB_DR | QI_IOTLB_DW | (did << 16)) >>> 0, 0, 0, 0];
  }
  /** Page-selective: ADDR aligned to 2^am pages, IH when no page-table pages were freed. */
  iotlbPage(did: number, addr: number, am: number, ih: boolean): QiDesc {
    this.stats.iotlbPsi++;
    return [(QI_IOTLB_TYPE | QI_IOTLB_GRAN_PAGE | QI_IOTLB_DR | QI_IOTLB_DW | (did << 16)) >>> 0, 0,
      ((addr % TWO32) | (ih ? QI_IOTLB_IH : 0) | am) >>> 0, Math.floor(addr / TWO32)];
  }
  /**
   * Device-TLB invalidate (qi_flush_dev_iotlb): SID [47:32], queue depth
   * [31:21] (0: the device's maximum); 2^am pages at addr encoded with the
   * S bit and trailing ones (PCIe ATS 1.1 table 2-4).
   */
  devTlb(sid: number, addr: number, am: number): QiDesc {
    this.stats.devTlb++;
    let a = addr;
    let s = 0;
    if (am > 0) {
      a = addr + (2 ** (12 + am - 1) - 1);
      s = 1;
    }
    return [QI_DIOTLB_TYPE, sid & 0xffff, ((a % TWO32) & 0xfffff000 | s) >>> 0, Math.floor(a / TWO32)];
  }
}
