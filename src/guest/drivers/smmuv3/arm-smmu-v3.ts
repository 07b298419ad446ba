import type { GuestDevice } from '../../device.js';
import { EINVAL, ENODEV, ENOSPC } from '../../errno.js';
import {
  IOMMU_DOMAIN_BLOCKED, IOMMU_DOMAIN_IDENTITY, IOMMU_MMIO, IOMMU_WRITE, isPaging, type DomainType,
} from '../../iommu-core/domain-types.js';
import { IommuDomain, type IommuCap, type IommuDriver, type IommuFwspec, type IommuInstance, type ResvRegion } from '../../iommu-core/driver.js';
import type { GuestKernel } from '../../kernel.js';
import { pciAtsSupported, pciDisableAts, pciEnableAts, pciEnablePasid, pciMaxPasids } from '../../pci-core/ats.js';
import { GuestCdTable } from './cd.js';
import { cmdAtcInv, cmdCfgiAll, cmdCfgiCd, cmdCfgiSte, cmdTlbiNsnhAll, GuestCmdq } from './cmdq.js';
import { Smmuv3Domain } from './domain.js';
import { GuestEvtq } from './evtq.js';
import { bringUp, type SmmuHwInfo } from './hw.js';
import type { GuestStreamTable } from './strtab.js';

/** Where the firmware says the SMMU is and how it is wired. */
export interface ArmSmmuV3Options {
  readonly base: number;
  /** SPI numbers of the wired interrupts (DT interrupt-names / IORT GSIVs - 32). */
  readonly irqs: { readonly eventq?: number; readonly gerror?: number };
  /** The firmware node devices' fwspecs name (DT node path, or the IORT node). */
  readonly fwnode: string;
  /** Linux's device name, e.g. "9050000.smmuv3". */
  readonly devName: string;
  /** The root complex supports ATS (DT `ats-supported`, IORT RC ATS attribute). */
  readonly rcAts: boolean;
  /** TEST ONLY: unmaps are not invalidated (CMD_SYNC alone), to show that the DMA oracle catches it. */
  readonly brokenTlbi?: boolean;
}

/** What the driver keeps per device (Linux struct arm_smmu_master). */
export interface SmmuMaster {
  readonly dev: GuestDevice;
  readonly sids: readonly number[];
  readonly ssidBits: number;
  readonly atsSupported: boolean;
  atsEnabled: boolean;
  readonly cdTable: GuestCdTable;
  /** The RID's domain: blocked, identity, or a paging domain (CD 0). */
  rid: 'blocked' | 'identity' | Smmuv3Domain;
  readonly pasids: Map<number, Smmuv3Domain>;
}

const MSI_IOVA_BASE = 0x8000000;
const MSI_IOVA_LENGTH = 0x100000;

/**
 * The guest's arm-smmu-v3 driver (Linux drivers/iommu/arm/arm-smmu-v3):
 * hardware bring-up (hw.ts), a master per device with its StreamIDs and CD
 * table, STEs for blocked / identity / stage-1 domains, stage-1 paging
 * domains with their own ASID (domain.ts), PASID attachments through the
 * master's CD table, ATS (pci_enable_ats, STE.EATS, ATC_INV), and the
 * event-queue and GERROR interrupt handlers.
 */
export class ArmSmmuV3 implements IommuDriver {
  readonly name = 'arm-smmu-v3';
  readonly pgsizes = [4096];
  readonly instance: IommuInstance;
  readonly identityDomain: IommuDomain;
  readonly blockedDomain: IommuDomain;
  readonly masters = new Map<GuestDevice, SmmuMaster>();
  hw: SmmuHwInfo | undefined;
  private readonly asids = new Set<number>();
  private nextAsid = 1;

  constructor(readonly k: GuestKernel, readonly opts: ArmSmmuV3Options) {
    this.identityDomain = new IommuDomain(IOMMU_DOMAIN_IDENTITY, { attachDev: (_d, dev) => this.attachStatic(dev, 'identity') });
    this.blockedDomain = new IommuDomain(IOMMU_DOMAIN_BLOCKED, { attachDev: (_d, dev) => this.attachStatic(dev, 'blocked') });
    this.instance = { name: `smmu3.0x${opts.base.toString(16).padStart(16, '0')}`, fwnode: opts.fwnode, driver: this, maxPasids: 0 };
  }

  get who(): string {
    return `arm-smmu-v3 ${this.opts.devName}`;
  }
  get cmdq(): GuestCmdq {
    return this.hw!.cmdq;
  }
  get strtab(): GuestStreamTable {
    return this.hw!.strtab;
  }
  get evtq(): GuestEvtq {
    return this.hw!.evtq;
  }
  get ril(): boolean {
    return this.hw!.ril;
  }
  get ips(): number {
    return this.hw!.ips;
  }

  /** arm_smmu_device_probe: ID registers, tables, queues, reset, interrupts. 0 or a negative errno. */
  probeHw(): number {
    const hw = bringUp(this.k, this.opts, this.who, (sid) => this.deviceName(sid));
    if (typeof hw === 'number') return hw;
    this.hw = hw;
    const inst = this.instance as { maxPasids: number };
    inst.maxPasids = hw.ssidBits > 0 ? 2 ** hw.ssidBits : 0;
    this.k.port.onIrqLine((line, level) => {
      if (!level) return;
      if (line === this.opts.irqs.eventq) this.evtq.drain();
      else if (line === this.opts.irqs.gerror) this.handleGerror();
    });
    return 0;
  }

  private deviceName(sid: number): string {
    for (const m of this.masters.values()) if (m.sids.includes(sid)) return m.dev.name;
    return 'unknown';
  }

  /** arm_smmu_gerror_handler: log, skip a failed command, acknowledge (GERRORN = GERROR). */
  handleGerror(): void {
    const r = (off: number) => this.k.port.read(this.opts.base + off, 4).lo >>> 0;
    const gerror = r(0x60);
    const active = gerror ^ r(0x64);
    if (!active) return;
    this.k.log.warn(this.who, `unexpected global error reported (0x${active.toString(16).padStart(8, '0')}), this could be serious`);
    if (active & 1) this.cmdq.skipError();
    if (active & 4) this.k.log.err(this.who, 'EVTQ write aborted -- events may have been lost');
    this.k.port.write(this.opts.base + 0x64, 4, gerror);
  }

  allocAsid(): number {
    for (let i = 0; i < 0xffff; i++) {
      const a = ((this.nextAsid + i - 1) % 0xffff) + 1;
      if (!this.asids.has(a)) {
        this.asids.add(a);
        this.nextAsid = a + 1;
        return a;
      }
    }
    return -ENOSPC;
  }
  freeAsid(asid: number): void {
    this.asids.delete(asid);
  }

  probeDevice(dev: GuestDevice, fwspec: IommuFwspec): IommuInstance | number {
    if (fwspec.fwnode !== this.opts.fwnode || !this.hw) return -ENODEV;
    const hw = this.hw;
    for (const sid of fwspec.ids) {
      if (sid >= 2 ** hw.sidBits) return -ENODEV;
      this.strtab.ensure(sid);
    }
    let ssidBits = 0;
    if (dev.pci && hw.ssidBits > 0 && pciMaxPasids(dev.pci) > 1) {
      ssidBits = Math.min(hw.ssidBits, Math.log2(pciMaxPasids(dev.pci)));
      if (pciEnablePasid(dev.pci)) ssidBits = 0;
    }
    const atsSupported = !!dev.pci && hw.ats && this.opts.rcAts && pciAtsSupported(dev.pci);
    const m: SmmuMaster = {
      dev, sids: [...fwspec.ids], ssidBits, atsSupported, atsEnabled: false, rid: 'blocked', pasids: new Map(),
      cdTable: new GuestCdTable(this.k.port, this.k.mem, ssidBits, hw.cd2l),
    };
    this.masters.set(dev, m);
    return this.instance;
  }

  releaseDevice(dev: GuestDevice): void {
    const m = this.masters.get(dev);
    if (!m) return;
    this.detachRid(m);
    m.rid = 'blocked';
    this.writeSte(m);
    m.cdTable.free();
    this.masters.delete(dev);
  }

  domainAlloc(type: DomainType): IommuDomain | number {
    if (!isPaging(type)) return -EINVAL;
    const asid = this.allocAsid();
    if (asid < 0) return asid;
    return new Smmuv3Domain(type, this, asid);
  }

  capable(dev: GuestDevice, cap: IommuCap): boolean {
    const m = this.masters.get(dev);
    if (cap === 'cache-coherency' || cap === 'deferred-flush') return true;
    if (cap === 'ats') return !!m?.atsSupported;
    if (cap === 'pasid') return (m?.ssidBits ?? 0) > 0;
    return false;
  }

  /** arm_smmu_get_resv_regions: the software MSI window VFIO-style users map MSIs at. */
  getResvRegions(): ResvRegion[] {
    return [{ start: MSI_IOVA_BASE, length: MSI_IOVA_LENGTH, prot: IOMMU_WRITE | IOMMU_MMIO, type: 'sw-msi' }];
  }

  /** STE for a master's current RID domain and PASID attachments (arm_smmu_make_*_ste), CFGI_STE + CMD_SYNC. */
  writeSte(m: SmmuMaster): void {
    const rid = m.rid;
    const paging = typeof rid !== 'string';
    for (const sid of m.sids) {
      if (!paging && m.pasids.size === 0) this.strtab.write(sid, { kind: rid === 'identity' ? 'bypass' : 'abort' });
      else {
        this.strtab.write(sid, {
          kind: 's1', cdTable: m.cdTable.base + m.cdTable.s1fmt, s1cdmax: m.ssidBits, ats: paging && m.atsSupported,
          s1dss: paging ? 2 : rid === 'identity' ? 1 : 0,
        });
      }
    }
    this.cmdq.issue(m.sids.map(cmdCfgiSte));
  }

  private detachRid(m: SmmuMaster): void {
    if (m.atsEnabled && m.dev.pci) {
      pciDisableAts(m.dev.pci);
      m.atsEnabled = false;
    }
    if (typeof m.rid !== 'string') m.rid.attached.get(m)?.delete(0);
  }

  private attachStatic(dev: GuestDevice, kind: 'blocked' | 'identity'): number {
    const m = this.masters.get(dev);
    if (!m) return -ENODEV;
    this.detachRid(m);
    m.rid = kind;
    this.writeSte(m);
    return 0;
  }

  attachPaging(d: Smmuv3Domain, dev: GuestDevice): number {
    const m = this.masters.get(dev);
    if (!m) return -ENODEV;
    this.detachRid(m);
    m.cdTable.write(0, d.cd());
    this.cmdq.issue(m.sids.map((sid) => cmdCfgiCd(sid, 0)));
    m.rid = d;
    this.writeSte(m);
    if (!d.attached.has(m)) d.attached.set(m, new Set());
    d.attached.get(m)!.add(0);
    if (m.atsSupported && dev.pci && pciEnableAts(dev.pci, 12) === 0) {
      m.atsEnabled = true;
      this.cmdq.issue(m.sids.map((sid) => cmdAtcInv(sid, undefined, 0, 0)));
    }
    return 0;
  }

  /** set_dev_pasid: the domain's CD at the PASID in the master's CD table. */
  setPasid(d: Smmuv3Domain, dev: GuestDevice, pasid: number): number {
    const m = this.masters.get(dev);
    if (!m || m.ssidBits === 0 || pasid === 0 || pasid >= 2 ** m.ssidBits) return -EINVAL;
    m.cdTable.write(pasid, d.cd());
    const first = m.pasids.size === 0;
    m.pasids.set(pasid, d);
    if (first && typeof m.rid === 'string') this.writeSte(m);
    this.cmdq.issue(m.sids.map((sid) => cmdCfgiCd(sid, pasid)));
    if (!d.attached.has(m)) d.attached.set(m, new Set());
    d.attached.get(m)!.add(pasid);
    return 0;
  }

  removeDevPasid(dev: GuestDevice, pasid: number): void {
    const m = this.masters.get(dev);
    const d = m?.pasids.get(pasid);
    if (!m || !d) return;
    m.cdTable.write(pasid, null);
    m.pasids.delete(pasid);
    this.cmdq.issue(m.sids.map((sid) => cmdCfgiCd(sid, pasid)));
    if (m.atsEnabled) this.cmdq.issue(m.sids.map((sid) => cmdAtcInv(sid, pasid, 0, 0)));
    d.attached.get(m)?.delete(pasid);
    if (m.pasids.size === 0 && typeof m.rid === 'string') this.writeSte(m);
  }

  /** CFGI_ALL + TLBI_NSNH_ALL + CMD_SYNC, as the reset sequence issues them. */
  invalidateAll(): boolean {
    return this.cmdq.issue([cmdCfgiAll(), cmdTlbiNsnhAll()]);
  }
}

