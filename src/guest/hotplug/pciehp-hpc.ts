import type { EventLog } from '../../base/event-log.js';
import type { PciFunction } from '../pci-core/device.js';
import {
  PCI_EXP_LNKCAP, PCI_EXP_LNKCAP_DLLLARC, PCI_EXP_LNKSTA, PCI_EXP_LNKSTA_DLLLA, PCI_EXP_SLTCAP, PCI_EXP_SLTCAP2,
  PCI_EXP_SLTCAP2_IBPD, PCI_EXP_SLTCAP_ABP, PCI_EXP_SLTCAP_AIP, PCI_EXP_SLTCAP_EIP, PCI_EXP_SLTCAP_HPC,
  PCI_EXP_SLTCAP_HPS, PCI_EXP_SLTCAP_MRLSP, PCI_EXP_SLTCAP_NCCS, PCI_EXP_SLTCAP_PCP, PCI_EXP_SLTCAP_PIP,
  PCI_EXP_SLTCAP_PSN_SHIFT, PCI_EXP_SLTCTL, PCI_EXP_SLTCTL_ABPE, PCI_EXP_SLTCTL_AIC, PCI_EXP_SLTCTL_CCIE,
  PCI_EXP_SLTCTL_DLLSCE, PCI_EXP_SLTCTL_HPIE, PCI_EXP_SLTCTL_PCC, PCI_EXP_SLTCTL_PDCE, PCI_EXP_SLTCTL_PFDE,
  PCI_EXP_SLTCTL_PIC, PCI_EXP_SLTCTL_PWR_OFF, PCI_EXP_SLTCTL_PWR_ON, PCI_EXP_SLTSTA, PCI_EXP_SLTSTA_ABP,
  PCI_EXP_SLTSTA_CC, PCI_EXP_SLTSTA_DLLSC, PCI_EXP_SLTSTA_PDC, PCI_EXP_SLTSTA_PDS, PCI_EXP_SLTSTA_PFD,
} from '../pci-core/regs.js';

/** Slot Status events pciehp handles (pciehp_isr). */
export const PCIEHP_EVENTS = PCI_EXP_SLTSTA_ABP | PCI_EXP_SLTSTA_PFD | PCI_EXP_SLTSTA_PDC | PCI_EXP_SLTSTA_CC | PCI_EXP_SLTSTA_DLLSC;

/**
 * The register side of one hot-plug controller (Linux pciehp_hpc.c): Slot
 * Capabilities as read at probe, Slot Control commands, Slot Status events,
 * power, indicators, presence and link state, all through the port's PCI
 * Express capability.
 */
export class SlotRegisters {
  readonly pos: number;
  readonly sltcap: number;
  readonly lnkcap: number;

  constructor(readonly port: PciFunction, private readonly log: EventLog) {
    this.pos = port.pcieCap ?? 0;
    this.sltcap = port.read(this.pos + PCI_EXP_SLTCAP, 4) >>> 0;
    this.lnkcap = port.read(this.pos + PCI_EXP_LNKCAP, 4) >>> 0;
  }

  /** Physical Slot Number (Slot Capabilities [31:19]). */
  get psn(): number {
    return this.sltcap >>> PCI_EXP_SLTCAP_PSN_SHIFT;
  }
  get attnButton(): boolean {
    return (this.sltcap & PCI_EXP_SLTCAP_ABP) !== 0;
  }
  get powerCtrl(): boolean {
    return (this.sltcap & PCI_EXP_SLTCAP_PCP) !== 0;
  }
  get pwrLed(): boolean {
    return (this.sltcap & PCI_EXP_SLTCAP_PIP) !== 0;
  }
  get attnLed(): boolean {
    return (this.sltcap & PCI_EXP_SLTCAP_AIP) !== 0;
  }
  get linkActiveReporting(): boolean {
    return (this.lnkcap & PCI_EXP_LNKCAP_DLLLARC) !== 0;
  }

  /** The line pcie_init prints for each controller. */
  capsLine(): string {
    const f = (v: number, bit: number): string => ((v & bit) !== 0 ? '+' : '-');
    const c = this.sltcap;
    const cap2 = this.port.read(this.pos + PCI_EXP_SLTCAP2, 4) >>> 0;
    return `Slot #${this.psn} AttnBtn${f(c, PCI_EXP_SLTCAP_ABP)} PwrCtrl${f(c, PCI_EXP_SLTCAP_PCP)} MRL${f(c, PCI_EXP_SLTCAP_MRLSP)} `
      + `AttnInd${f(c, PCI_EXP_SLTCAP_AIP)} PwrInd${f(c, PCI_EXP_SLTCAP_PIP)} HotPlug${f(c, PCI_EXP_SLTCAP_HPC)} `
      + `Surprise${f(c, PCI_EXP_SLTCAP_HPS)} Interlock${f(c, PCI_EXP_SLTCAP_EIP)} NoCompl${f(c, PCI_EXP_SLTCAP_NCCS)} `
      + `IbPresDis${f(cap2, PCI_EXP_SLTCAP2_IBPD)} LLActRep${f(this.lnkcap, PCI_EXP_LNKCAP_DLLLARC)}`;
  }

  readStatus(): number {
    return this.port.read(this.pos + PCI_EXP_SLTSTA, 2);
  }
  /** Slot Status events are RW1C. */
  clearStatus(bits: number): void {
    if (bits) this.port.write(this.pos + PCI_EXP_SLTSTA, 2, bits & 0xffff);
  }
  readControl(): number {
    return this.port.read(this.pos + PCI_EXP_SLTCTL, 2);
  }

  /**
   * pcie_write_cmd: read-modify-write of Slot Control. Commands complete at
   * once on the ports viommu models (PCIe 4.0 section 6.7.3.2 allows it);
   * the Command Completed event is cleared here instead of waited for.
   */
  writeCmd(cmd: number, mask: number): void {
    const ctl = this.readControl();
    this.port.write(this.pos + PCI_EXP_SLTCTL, 2, ((ctl & ~mask) | (cmd & mask)) & 0xffff);
    if (this.readStatus() & PCI_EXP_SLTSTA_CC) this.clearStatus(PCI_EXP_SLTSTA_CC);
  }

  /** pcie_enable_notification: presence (or the button), link changes, and in interrupt mode HPIE and CCIE. */
  enableNotification(pollMode: boolean): void {
    let cmd = PCI_EXP_SLTCTL_DLLSCE | (this.attnButton ? PCI_EXP_SLTCTL_ABPE : PCI_EXP_SLTCTL_PDCE);
    if (!pollMode) cmd |= PCI_EXP_SLTCTL_HPIE;
    if (!pollMode && !(this.sltcap & PCI_EXP_SLTCAP_NCCS)) cmd |= PCI_EXP_SLTCTL_CCIE;
    const mask = PCI_EXP_SLTCTL_PDCE | PCI_EXP_SLTCTL_ABPE | PCI_EXP_SLTCTL_PFDE | PCI_EXP_SLTCTL_HPIE | PCI_EXP_SLTCTL_CCIE | PCI_EXP_SLTCTL_DLLSCE;
    this.writeCmd(cmd, mask);
  }

  /** pciehp_get_power_status: the power controller is on when PCC is 0. */
  powerOn(): boolean {
    return (this.readControl() & PCI_EXP_SLTCTL_PCC) === 0;
  }
  /** pciehp_card_present. */
  cardPresent(): boolean {
    return (this.readStatus() & PCI_EXP_SLTSTA_PDS) !== 0;
  }
  /** pciehp_check_link_active (Data Link Layer Link Active; undefined when the port does not report it). */
  linkActive(): boolean | undefined {
    if (!this.linkActiveReporting) return undefined;
    return (this.port.read(this.pos + PCI_EXP_LNKSTA, 2) & PCI_EXP_LNKSTA_DLLLA) !== 0;
  }

  /** pciehp_power_on_slot: clear a latched power fault, then turn the power controller on. */
  setPower(on: boolean): void {
    if (on) {
      const sta = this.readStatus();
      if (sta & PCI_EXP_SLTSTA_PFD) this.clearStatus(PCI_EXP_SLTSTA_PFD);
    }
    this.writeCmd(on ? PCI_EXP_SLTCTL_PWR_ON : PCI_EXP_SLTCTL_PWR_OFF, PCI_EXP_SLTCTL_PCC);
  }

  /** pciehp_set_indicators: Power / Attention Indicator Control values, undefined for no change. */
  setIndicators(pwr: number | undefined, attn: number | undefined): void {
    let cmd = 0;
    let mask = 0;
    if (pwr !== undefined && this.pwrLed) {
      cmd |= pwr & PCI_EXP_SLTCTL_PIC;
      mask |= PCI_EXP_SLTCTL_PIC;
    }
    if (attn !== undefined && this.attnLed) {
      cmd |= attn & PCI_EXP_SLTCTL_AIC;
      mask |= PCI_EXP_SLTCTL_AIC;
    }
    if (mask) this.writeCmd(cmd, mask);
  }

  info(text: string): void {
    this.log.info(`pcieport ${this.port.name}`, `pciehp: ${text}`);
  }
  err(text: string): void {
    this.log.err(`pcieport ${this.port.name}`, `pciehp: ${text}`);
  }
}

/** Hot-Plug Capable per Slot Capabilities, for a port with an implemented slot. */
export function slotHotplugCapable(sltcap: number): boolean {
  return (sltcap & PCI_EXP_SLTCAP_HPC) !== 0;
}
