import type { EventLog } from '../../base/event-log.js';
import type { MemoryRegion } from '../../memory/region.js';
import { addCapability } from '../../pci/capability.js';
import { ConfigSpace, rangeCoversByte, rangesOverlap } from '../../pci/config-space.js';
import { PCIDevice, type PCIDeviceIdentity } from '../../pci/device.js';
import { AtsCapability } from '../../pci/ext-caps.js';
import { MsixCapability } from '../../pci/msix.js';
import { pcieCapDeverrInit, pcieCapDeverrReset, pcieCapInit } from '../../pci/pcie-cap.js';
import { PCI_EXP_TYPE_ENDPOINT } from '../../pci/pcie-regs.js';
import {
  PCI_BASE_ADDRESS_MEM_PREFETCH, PCI_BASE_ADDRESS_MEM_TYPE_64, PCI_BASE_ADDRESS_SPACE_MEMORY, PCI_CAP_ID_PM,
  PCI_CAP_ID_VNDR, PCI_COMMAND, PCI_COMMAND_MASTER, PCI_CONFIG_SPACE_SIZE, PCI_INTERRUPT_PIN,
} from '../../pci/regs.js';
import type { VirtioDevice, VirtioTransport } from '../device.js';
import { VirtioDma } from '../dma.js';
import { VIRTIO_CONFIG_S_DRIVER_OK, VIRTIO_NO_VECTOR } from '../regs.js';
import { commonRead, commonWrite, PciQueueRegs, type CommonCfgHost } from './common-cfg.js';
import { VirtioPciRegions } from './regions.js';
import {
  PCI_DEVICE_ID_VIRTIO_10_BASE, PCI_VENDOR_ID_REDHAT_QUMRANET, VIRTIO_PCI_CAP_BAR, VIRTIO_PCI_CAP_LENGTH,
  VIRTIO_PCI_CAP_OFFSET, VIRTIO_PCI_CAP_PCI_CFG, VIRTIO_PCI_CFG_CAP_DATA, VIRTIO_PCI_CFG_CAP_SIZE, VIRTIO_PCI_MODERN_BAR,
  VIRTIO_PCI_MODERN_REVISION, VIRTIO_PCI_MSIX_BAR,
} from './virtio-pci-regs.js';

/** PCI Power Management capability (PCI PM 1.2): 8 bytes, PMC at +2 (QEMU writes 0x3: version 1.2). */
const PCI_PM_SIZEOF = 8;
const PCI_PM_PMC = 2;
/** The ATS capability goes first in extended space (QEMU: last_pcie_cap_offset = 0x100). */
const ATS_OFFSET = PCI_CONFIG_SPACE_SIZE;

/** The transport-level options of a virtio-pci function (QEMU virtio-pci properties). */
export interface VirtioPciOptions {
  /** QEMU type name, e.g. "virtio-iommu-pci". */
  readonly typeName: string;
  /** Class and subclass (PCI_CLASS_OTHERS 0xff00 for virtio-iommu-pci). */
  readonly classId: number;
  /** MSI-X vectors in an exclusive BAR 1 (0: none; INTx and ISR only). */
  readonly vectors?: number;
  /** ats=on: an ATS capability when the function is PCI Express (not on a root bus). */
  readonly ats?: boolean;
}

/**
 * A virtio device on PCI (QEMU VirtIOPCIProxy, modern only): vendor
 * capabilities for the common configuration, ISR, device configuration and
 * notifications (multiplier 4) plus the PCI configuration access window,
 * all in 64-bit prefetchable BAR 4 at QEMU's offsets; MSI-X in BAR 1 when
 * asked for; INTx pin A otherwise. On a PCI Express bus other than a root
 * bus it is a PCIe endpoint with PM (and ATS with `ats`); on a root bus a
 * conventional function, as in QEMU.
 *
 * The device's DMA goes through the bus-master address space (so through
 * a vIOMMU) only when VIRTIO_F_ACCESS_PLATFORM is negotiated; without it
 * the device uses guest-physical addresses in system memory (virtio 1.2
 * section 6.1). Clearing Bus Master Enable clears DRIVER_OK and stops the
 * device (QEMU use-disabled-flag).
 */
export class VirtioPciProxy extends PCIDevice implements VirtioTransport, CommonCfgHost {
  readonly typeName: string;
  dfselect = 0;
  gfselect = 0;
  readonly guestFeatureWords: [number, number] = [0, 0];
  ats: AtsCapability | undefined;
  /** The modern BAR's container ("virtio-pci") and its four regions. */
  regions!: VirtioPciRegions;
  private readonly qregs = new Map<number, PciQueueRegs>();
  private cfgCap = 0;

  constructor(readonly vdev: VirtioDevice, readonly opts: VirtioPciOptions) {
    super();
    this.typeName = opts.typeName;
    vdev.transport = this;
  }

  get identity(): PCIDeviceIdentity {
    return {
      vendorId: PCI_VENDOR_ID_REDHAT_QUMRANET, deviceId: PCI_DEVICE_ID_VIRTIO_10_BASE + this.vdev.deviceId,
      revision: VIRTIO_PCI_MODERN_REVISION, classId: this.opts.classId, express: this.isPcieEndpoint,
    };
  }

  /** virtio_pci_realize's pcie_port: an express bus that is not a root bus. */
  private get isPcieEndpoint(): boolean {
    return this.bus !== undefined && this.bus.express && !this.bus.isRoot;
  }

  get log(): EventLog {
    return this.ctx.log;
  }

  /** virtio-*-pci children for DEVICE_DELETED (QEMU finalizes the backend first). */
  qomChildren(): string[] {
    return ['virtio-backend'];
  }

  protected realizeDevice(): void {
    const cs = this.cs;
    if (this.isPcieEndpoint) {
      pcieCapInit(this, 0, PCI_EXP_TYPE_ENDPOINT, 0);
      pcieCapDeverrInit(this);
      const pm = addCapability(cs, PCI_CAP_ID_PM, 0, PCI_PM_SIZEOF);
      cs.set16(pm + PCI_PM_PMC, 0x3);
      if (this.opts.ats) this.ats = AtsCapability.init(this, ATS_OFFSET, true);
      this.addResetHook(() => pcieCapDeverrReset(this));
    }
    cs.set8(PCI_INTERRUPT_PIN, 1);
    this.regions = new VirtioPciRegions(this);
    this.regions.addCapabilities(cs);
    this.registerBar(VIRTIO_PCI_MODERN_BAR,
      PCI_BASE_ADDRESS_SPACE_MEMORY | PCI_BASE_ADDRESS_MEM_PREFETCH | PCI_BASE_ADDRESS_MEM_TYPE_64, this.regions.bar);
    this.cfgCap = addCapability(cs, PCI_CAP_ID_VNDR, 0, VIRTIO_PCI_CFG_CAP_SIZE);
    cs.set8(this.cfgCap + 2, VIRTIO_PCI_CFG_CAP_SIZE);
    cs.set8(this.cfgCap + 3, VIRTIO_PCI_CAP_PCI_CFG);
    cs.wmask[this.cfgCap + VIRTIO_PCI_CAP_BAR] = 0xff;
    for (const f of [VIRTIO_PCI_CAP_OFFSET, VIRTIO_PCI_CAP_LENGTH, VIRTIO_PCI_CFG_CAP_DATA]) {
      ConfigSpace.set32(cs.wmask, this.cfgCap + f, 0xffffffff);
    }
    if (this.opts.vectors) MsixCapability.initExclusiveBar(this, this.opts.vectors, VIRTIO_PCI_MSIX_BAR);
  }

  /** The modern BAR as a region (tests, info mtree). */
  get modernBar(): MemoryRegion {
    return this.regions.bar;
  }

  // VirtioTransport.
  dmaFor(accessPlatform: boolean): VirtioDma {
    const attrs = { requesterId: this.requesterId };
    return new VirtioDma(accessPlatform ? this.busMaster.as : this.ctx.systemMemory, attrs);
  }

  /** virtio_pci_notify: MSI-X when enabled, else INTx follows ISR bit 0. */
  notifyVector(vector: number): void {
    if (this.msix?.enabled) {
      if (vector !== VIRTIO_NO_VECTOR) this.msix.notify(vector);
    } else {
      this.setIrq(this.vdev.isr & 1);
    }
  }

  // CommonCfgHost.
  vectorValid(vector: number): boolean {
    return vector < (this.msix?.entries ?? 0);
  }
  queueRegs(sel: number): PciQueueRegs {
    let r = this.qregs.get(sel);
    if (!r) {
      r = new PciQueueRegs();
      this.qregs.set(sel, r);
    }
    return r;
  }
  /** virtio_pci_reset. */
  resetTransport(): void {
    this.vdev.reset();
    this.qregs.clear();
    this.guestFeatureWords[0] = this.guestFeatureWords[1] = 0;
    this.deassertIntx();
  }

  commonRead(offset: number): number {
    return commonRead(this, offset);
  }
  commonWrite(offset: number, val: number): void {
    commonWrite(this, offset, val);
  }

  /** ISR: reading returns and clears it, and lowers INTx (virtio_pci_isr_read). */
  isrRead(): number {
    const v = this.vdev.isr;
    this.vdev.isr = 0;
    this.deassertIntx();
    return v;
  }

  protected override deviceReset(): void {
    this.resetTransport();
  }

  override unrealize(): void {
    this.vdev.reset();
    super.unrealize();
  }

  /** virtio_write_config: BME off stops the device; the PCI configuration window writes into BAR 4. */
  override configWrite(addr: number, val: number, len: number): void {
    super.configWrite(addr, val, len);
    if (rangeCoversByte(addr, len, PCI_COMMAND)) {
      if (!(this.cs.get16(PCI_COMMAND) & PCI_COMMAND_MASTER)) {
        this.vdev.disabled = true;
        this.vdev.setStatus(this.vdev.status & ~VIRTIO_CONFIG_S_DRIVER_OK);
      } else {
        this.vdev.disabled = false;
      }
    }
    if (this.cfgCap && rangesOverlap(addr, len, this.cfgCap + VIRTIO_PCI_CFG_CAP_DATA, 4)) {
      const w = this.cfgWindow();
      if (w) this.regions.write(w.off, w.len, this.cs.get32(this.cfgCap + VIRTIO_PCI_CFG_CAP_DATA));
    }
  }

  /** virtio_read_config: a read of the window's data performs the BAR read first. */
  override configRead(addr: number, len: number): number {
    if (this.cfgCap && rangesOverlap(addr, len, this.cfgCap + VIRTIO_PCI_CFG_CAP_DATA, 4)) {
      const w = this.cfgWindow();
      if (w) this.cs.set32(this.cfgCap + VIRTIO_PCI_CFG_CAP_DATA, this.regions.read(w.off, w.len));
    }
    return super.configRead(addr, len);
  }

  /** The window's offset and length when valid (1, 2 or 4 bytes; strictly, in BAR 4 as the spec says). */
  private cfgWindow(): { off: number; len: number } | undefined {
    const c = this.cfgCap;
    const len = this.cs.get32(c + VIRTIO_PCI_CAP_LENGTH);
    if (len !== 1 && len !== 2 && len !== 4) return undefined;
    if (!this.vdev.qemuCompat && this.cs.get8(c + VIRTIO_PCI_CAP_BAR) !== VIRTIO_PCI_MODERN_BAR) return undefined;
    return { off: this.cs.get32(c + VIRTIO_PCI_CAP_OFFSET), len };
  }
}
