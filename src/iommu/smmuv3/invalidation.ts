import type { SmmuCommand } from './cmdq.js';
import { alignedChunks, devIotlbUnmap, unmapAllNotifiers, unmapRange } from './notify.js';
import { CR0_SMMUEN } from './regs.js';
import type { Smmuv3 } from './smmuv3.js';

/**
 * The SMMUv3's TLB and ATC invalidation commands (IHI 0070 4.4, 4.5): the
 * shared engine's IOTLB (through IotlbCoherence, so workers follow) and
 * the notifier emissions (notify.ts). CMD_SYNC, the completion point, is
 * Smmuv3.cmdSync.
 */
export function tlbiAll(s: Smmuv3): void {
  s.stats.notifierEvents += unmapAllNotifiers(s.endpoints);
  s.coherence.invalidateAll();
}
export function tlbiAsid(s: Smmuv3, asid: number): void {
  s.stats.notifierEvents += unmapAllNotifiers(s.endpoints);
  for (const ctx of s.contexts.ofAsid(asid)) s.coherence.invalidateContext(ctx);
}

/**
 * TLBI_NH_VA (an ASID) / TLBI_NH_VAA (null: any ASID) of `pages` pages of
 * 2^granule bytes (range invalidation: TG, NUM, SCALE), or granule 0 for
 * one address (TG = 0). Notifiers get ranged UNMAPs, one per naturally
 * aligned power-of-two chunk; with TG = 0 the size is the granule of each
 * endpoint's CD (smmuv3_notify_iova), 4 KiB when it has none. Unlike QEMU
 * with TG = 0, notifiers are not filtered by ASID: a consumer's entries may
 * come from a CD the guest has since replaced, and an extra UNMAP is
 * harmless to a cache.
 */
export function tlbiVa(s: Smmuv3, asid: number | null, addr: number, pages: number, granule: number): void {
  const target = s.systemAs;
  if (granule === 0) {
    for (const ep of s.endpoints) {
      if (!ep.region.registeredNotifiers.length) continue;
      const r = s.translator.resolve(ep.sid, undefined);
      const g = r.kind === 's1' ? r.entry.cd.tt[0].granule : 12;
      const size = 2 ** g;
      s.stats.notifierEvents += unmapRange([ep], target, BigInt(addr - (addr % size)), BigInt(size - 1));
    }
    invalidateIova(s, asid, addr - (addr % 4096), 4096);
    return;
  }
  for (const c of alignedChunks(addr, pages, granule)) {
    s.stats.notifierEvents += unmapRange(s.endpoints, target, BigInt(c.iova), BigInt(c.pages) * (1n << BigInt(granule)) - 1n);
  }
  invalidateIova(s, asid, addr - (addr % 2 ** granule), pages * 2 ** granule);
}

function invalidateIova(s: Smmuv3, asid: number | null, start: number, size: number): void {
  if (asid === null) s.coherence.invalidateRange(null, start, size);
  else for (const ctx of s.contexts.ofAsid(asid)) s.coherence.invalidateRange(ctx, start, size);
}

/**
 * CMD_ATC_INV (4.5.1): invalidate the span of 4 KiB x 2^Size at Address
 * (aligned down to the span; Size >= 52 is everything) in the ATC of
 * StreamID (with the PASID when SSV), as DEVIOTLB_UNMAP to the
 * endpoint's consumers. IGNORED while SMMUEN = 0.
 */
export function atcInv(s: Smmuv3, c: SmmuCommand): void {
  if (!(s.cr0 & CR0_SMMUEN)) return;
  s.stats.atcInvalidations++;
  const size = c.atcSize;
  const addr = (BigInt(c.w[3]!) << 32n) | BigInt((c.w[2]! & 0xfffff000) >>> 0);
  const span = size >= 52 ? 1n << 64n : 1n << BigInt(12 + size);
  const iova = size >= 52 ? 0n : addr - (addr % span);
  for (const ep of s.endpoints) {
    if (ep.sid !== c.sid) continue;
    devIotlbUnmap(ep, s.systemAs, iova, span - 1n, c.ssv ? c.ssid : undefined);
    s.stats.notifierEvents++;
  }
}
