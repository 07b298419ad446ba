import {
  IOMMU_NONE, IOMMU_RW, type AddressSpace, type IOMMUTLBEntry, type MemoryRegion, type MemTxAttrs,
} from '../../../src/memory/index.js';
import type { FakeMachine } from './machine.js';

/** Register offsets of the test IOMMU (a made-up, minimal design for tests only). */
export const TI_CTX_RID = 0x00;
export const TI_CTX_PASID = 0x04;
/** 64-bit: 0 none (fault), 1 bypass, table root | 2 translate. Writing it applies the context at once. */
export const TI_CTX_VAL = 0x08;
export const TI_INV_ROOT = 0x10;
export const TI_INV_ADDR = 0x18;
export const TI_INV_PAGES = 0x20;
/** 1: pages [INV_ADDR, +INV_PAGES) of INV_ROOT; 2: all of INV_ROOT. */
export const TI_INV_CMD = 0x24;
export const TI_FAULTS = 0x28;
/** A flat table: one 8-byte PTE per 4 KiB of a 256 MiB aperture (bit 0 read, bit 1 write, bits 51:12 address). */
export const TI_APERTURE = 1 << 28;
export const TI_TABLE_BYTES = (TI_APERTURE / 4096) * 8;

interface Ctx {
  readonly mode: 'bypass' | 'translate';
  readonly root: number;
}

/**
 * Test IOMMU hardware: per-(RID, PASID) contexts set through registers, a
 * one-level page table in guest RAM, and an IOTLB that keeps translations
 * until the guest invalidates them, so a driver that skips an invalidation
 * leaves a stale translation the device will use.
 */
export class TestIommuHw {
  readonly region: MemoryRegion;
  readonly iommuRegion: MemoryRegion;
  readonly contexts = new Map<string, Ctx>();
  readonly iotlb = new Map<string, { paddr: number; perm: number }>();
  readonly invalidations: { t: number; cmd: number; root: number; addr: number; pages: number }[] = [];
  faults = 0;
  private regs = { rid: 0, pasid: 0, invRoot: 0, invAddr: 0, invPages: 0 };

  constructor(private readonly m: FakeMachine, private readonly target: AddressSpace = m.memory) {
    this.region = m.mem.mmio('test-iommu', 0x100, {
      read: (off) => (off === TI_FAULTS ? this.faults : off === TI_CTX_VAL ? this.ctxVal() % 2 ** 32 : 0),
      write: (off, _size, v) => this.write(off, v, 0),
      write64: (off, lo, hi) => this.write(off, lo, hi),
      read64: (off) => {
        const v = off === TI_CTX_VAL ? this.ctxVal() : 0;
        return { lo: v % 2 ** 32, hi: Math.floor(v / 2 ** 32) };
      },
      valid: { min: 4, max: 8 },
      impl: { min: 4, max: 8 },
    });
    this.iommuRegion = m.mem.iommu('test-iommu-dma', 1n << 64n, {
      translate: (addr, _flag, _idx, attrs) => this.translate(addr, attrs),
    });
  }

  /** The context of (CTX_RID, CTX_PASID) as written: 0, 1 or root | 2. */
  private ctxVal(): number {
    const c = this.contexts.get(`${this.regs.rid}:${this.regs.pasid}`);
    return !c ? 0 : c.mode === 'bypass' ? 1 : c.root + 2;
  }

  private write(off: number, lo: number, hi: number): void {
    const v = hi * 2 ** 32 + (lo >>> 0);
    switch (off) {
      case TI_CTX_RID: this.regs.rid = lo & 0xffff; break;
      case TI_CTX_PASID: this.regs.pasid = lo >>> 0; break;
      case TI_CTX_VAL: {
        const key = `${this.regs.rid}:${this.regs.pasid}`;
        if (v === 0) this.contexts.delete(key);
        else if (v === 1) this.contexts.set(key, { mode: 'bypass', root: 0 });
        else this.contexts.set(key, { mode: 'translate', root: v - (v % 4096) });
        break;
      }
      case TI_INV_ROOT: this.regs.invRoot = v; break;
      case TI_INV_ADDR: this.regs.invAddr = v; break;
      case TI_INV_PAGES: this.regs.invPages = lo >>> 0; break;
      case TI_INV_CMD: {
        const { invRoot, invAddr, invPages } = this.regs;
        this.invalidations.push({ t: this.m.clock.now, cmd: lo, root: invRoot, addr: invAddr, pages: invPages });
        for (const k of [...this.iotlb.keys()]) {
          const [root, page] = k.split(':').map(Number) as [number, number];
          if (root !== invRoot) continue;
          if (lo === 2 || (page * 4096 >= invAddr && page * 4096 < invAddr + invPages * 4096)) this.iotlb.delete(k);
        }
        break;
      }
    }
  }

  private fault(addr: number): IOMMUTLBEntry {
    this.faults++;
    return { targetAs: null, iova: addr - (addr % 4096), translatedAddr: 0, addrMask: 0xfff, perm: IOMMU_NONE };
  }

  translate(addr: number, attrs: MemTxAttrs): IOMMUTLBEntry {
    const ctx = this.contexts.get(`${attrs.requesterId ?? -1}:${attrs.pasid ?? 0}`);
    if (!ctx) return this.fault(addr);
    const page = Math.floor(addr / 4096);
    if (ctx.mode === 'bypass') return { targetAs: this.target, iova: page * 4096, translatedAddr: page * 4096, addrMask: 0xfff, perm: IOMMU_RW };
    if (addr >= TI_APERTURE) return this.fault(addr);
    const key = `${ctx.root}:${page}`;
    let e = this.iotlb.get(key);
    if (!e) {
      const r = this.m.memory.read(ctx.root + page * 8, 8);
      const perm = r.lo & 3;
      if (!perm) return this.fault(addr);
      e = { paddr: (r.lo - (r.lo % 4096)) + r.hi * 2 ** 32, perm };
      this.iotlb.set(key, e);
    }
    return { targetAs: this.target, iova: page * 4096, translatedAddr: e.paddr, addrMask: 0xfff, perm: e.perm };
  }
}
