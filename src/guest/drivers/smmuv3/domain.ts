import type { GuestDevice } from '../../device.js';
import { IommuDomain, type IommuDomainOps } from '../../iommu-core/driver.js';
import type { DomainType } from '../../iommu-core/domain-types.js';
import type { IotlbGather } from '../../iommu-core/gather.js';
import { cdWords } from './cd.js';
import { cmdAtcInv, cmdTlbiAsid, tlbiRangeCmds, type Cmd } from './cmdq.js';
import { LpaeS1Pgtable } from './pgtable.js';
import type { ArmSmmuV3, SmmuMaster } from './arm-smmu-v3.js';

/**
 * A stage-1 paging domain (Linux struct arm_smmu_domain, ARM_SMMU_DOMAIN_S1):
 * an ASID, io-pgtable-arm tables, and the masters (and PASIDs) it is
 * attached to, which its CD is written for. Unmaps are invalidated with
 * TLBI_NH_VA (range invalidation when IDR3.RIL) + CMD_SYNC, then CMD_ATC_INV
 * + CMD_SYNC for ATS-enabled masters (arm_smmu_tlb_inv_range_domain,
 * arm_smmu_atc_inv_domain); flushes with TLBI_NH_ASID.
 */
export class Smmuv3Domain extends IommuDomain {
  readonly pgtable: LpaeS1Pgtable;
  /** Masters with this domain at their RID (CD 0) or at a PASID. */
  readonly attached = new Map<SmmuMaster, Set<number>>();

  constructor(type: DomainType, readonly smmu: ArmSmmuV3, readonly asid: number) {
    const ops: IommuDomainOps = {
      attachDev: (_d, dev) => smmu.attachPaging(this, dev),
      setDevPasid: (_d, dev, pasid) => smmu.setPasid(this, dev, pasid),
      mapPages: (_d, iova, paddr, pgsize, count, prot) => {
        if (pgsize !== 4096) return { ret: -22, mapped: 0 };
        const mapped = this.pgtable.map(iova, paddr, count, prot);
        return { ret: mapped === count * pgsize ? 0 : -17, mapped };
      },
      unmapPages: (_d, iova, pgsize, count, gather: IotlbGather) =>
        this.pgtable.unmap(iova, count * (pgsize / 4096), (va) => gather.addPage(va, 4096)),
      iotlbSync: (_d, g) => {
        if (!g.empty) this.invalidateRange(g.start, g.end - g.start + 1);
      },
      flushIotlbAll: () => this.flushAll(),
      iovaToPhys: (_d, iova) => this.pgtable.iovaToPhys(iova),
      free: () => {
        this.pgtable.free();
        smmu.freeAsid(asid);
      },
    };
    super(type, ops, { pgsizes: [4096], geometry: { apertureStart: 0, apertureEnd: 2 ** 48 - 1, forceAperture: true } });
    this.pgtable = new LpaeS1Pgtable(smmu.k.port, smmu.k.mem);
  }

  /** The CD that points the regime at this domain's tables. */
  cd(): number[] {
    return cdWords(this.asid, this.pgtable.root, this.pgtable.ias, this.smmu.ips);
  }

  private atcCmds(iova: number, size: number): Cmd[] {
    const out: Cmd[] = [];
    for (const [m, ssids] of this.attached) {
      if (!m.atsEnabled) continue;
      for (const sid of m.sids) for (const ssid of ssids) out.push(cmdAtcInv(sid, ssid === 0 ? undefined : ssid, iova, size));
    }
    return out;
  }

  invalidateRange(iova: number, size: number): void {
    const s = this.smmu;
    if (!s.opts.brokenTlbi) s.cmdq.issue(tlbiRangeCmds(this.asid, iova, size, 12, s.ril));
    else s.cmdq.issue([]);
    const atc = this.atcCmds(iova, size);
    if (atc.length) s.cmdq.issue(atc);
  }

  flushAll(): void {
    const s = this.smmu;
    s.cmdq.issue(s.opts.brokenTlbi ? [] : [cmdTlbiAsid(this.asid)]);
    const atc = this.atcCmds(0, 0);
    if (atc.length) s.cmdq.issue(atc);
  }

  /** The devices this domain is attached to, for logs. */
  get devices(): GuestDevice[] {
    return [...this.attached.keys()].map((m) => m.dev);
  }
}
