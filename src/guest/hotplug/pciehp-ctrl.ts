import type { GuestTimer } from '../clock.js';
import { EEXIST, ENODEV, errnoName } from '../errno.js';
import type { GuestKernel } from '../kernel.js';
import type { PciFunction } from '../pci-core/device.js';
import {
  PCI_EXP_SLTCTL_ATTN_IND_OFF, PCI_EXP_SLTCTL_ATTN_IND_ON, PCI_EXP_SLTCTL_PWR_IND_BLINK, PCI_EXP_SLTCTL_PWR_IND_OFF,
  PCI_EXP_SLTCTL_PWR_IND_ON, PCI_EXP_SLTSTA_DLLSC, PCI_EXP_SLTSTA_PDC,
} from '../pci-core/regs.js';
import type { SlotRegisters } from './pciehp-hpc.js';
import { configureSlotDevices, slotDeviceAnswers, unconfigureSlotDevices } from './pciehp-pci.js';

/** Linux's controller states (drivers/pci/hotplug/pciehp.h). */
export type SlotState = 'off' | 'blinking-on' | 'blinking-off' | 'power-on' | 'power-off' | 'on';

/** pciehp_request(ctrl, DISABLE_SLOT): a software request beside the Slot Status events. */
export const DISABLE_SLOT = 0x1_0000;
export const MS = 1_000_000;
/** The attention button's 5 s grace period (schedule_delayed_work(&ctrl->button_work, 5 * HZ)). */
export const BUTTON_DELAY_NS = 5000 * MS;

export interface PciehpOptions {
  /**
   * What completes an unplug request (an attention-button press while the
   * slot is on): 'script' waits until acknowledge() is called (a test script
   * or an operator decides, so a request can also stay unanswered);
   * 'linux' powers the slot off 5 s after the press, as Linux does.
   */
  readonly unplugAck?: 'script' | 'linux';
  /** Poll period when the platform offers the guest no MSI doorbell (pciehp_poll_time, 2 s). */
  readonly pollNs?: number;
}

/** One hot-plug slot and its controller (Linux struct controller). */
export class PciehpSlot {
  state: SlotState;
  /** Events and requests waiting for the IRQ thread. */
  pending = 0;
  readonly buttonWork: GuestTimer;

  constructor(readonly regs: SlotRegisters, readonly name: string, state: SlotState, work: (s: PciehpSlot) => GuestTimer) {
    this.state = state;
    this.buttonWork = work(this);
  }
  get port(): PciFunction {
    return this.regs.port;
  }
  get unplugRequested(): boolean {
    return this.state === 'blinking-off';
  }
}

/** pciehp_enable_slot / board_added: power, link, scan, indicators. Returns 0 or an errno. */
export function enableSlot(k: GuestKernel, slot: PciehpSlot): number {
  const { regs, name } = slot;
  let ret = 0;
  if (regs.powerCtrl && regs.powerOn() && slot.port.subordinate?.devices.length) {
    regs.info(`Slot(${name}): Already enabled`);
  } else {
    if (regs.powerCtrl) regs.setPower(true);
    regs.setIndicators(PCI_EXP_SLTCTL_PWR_IND_BLINK, undefined);
    ret = checkLinkStatus(k, slot);
    if (ret === 0) {
      ret = configureSlotDevices(k, slot.port);
      if (ret === -EEXIST) ret = 0;
      else if (ret) {
        const bus = slot.port.subordinate?.number ?? 0;
        regs.err(`Cannot add device at ${slot.port.segment.toString(16).padStart(4, '0')}:${bus.toString(16).padStart(2, '0')}:00 (${errnoName(ret)})`);
      }
    }
    if (ret === 0) regs.setIndicators(PCI_EXP_SLTCTL_PWR_IND_ON, PCI_EXP_SLTCTL_ATTN_IND_OFF);
    else setSlotOff(k, slot);
  }
  if (ret && regs.attnButton) regs.setIndicators(PCI_EXP_SLTCTL_PWR_IND_OFF, undefined);
  slot.state = ret ? 'off' : 'on';
  return ret;
}

/**
 * pciehp_check_link_status: wait for the link (Data Link Layer Link Active,
 * up to 1 s, then the 100 ms PCIe r4.0 section 6.6.1 requires before a
 * configuration request; 1 s without link reporting), then look for
 * function 0.
 */
function checkLinkStatus(k: GuestKernel, slot: PciehpSlot): number {
  const { regs, name } = slot;
  if (regs.linkActiveReporting) {
    if (!k.clock.pollUntil(() => regs.linkActive() === true, 10 * MS, 1000 * MS)) {
      regs.info(`Slot(${name}): No link`);
      return -ENODEV;
    }
    k.clock.sleep(100 * MS);
  } else k.clock.sleep(1000 * MS);
  if (!slotDeviceAnswers(k, slot.port)) return -ENODEV;
  // Presence changes up to here belong to this insertion.
  slot.pending &= ~(PCI_EXP_SLTSTA_PDC | PCI_EXP_SLTSTA_DLLSC);
  return 0;
}

/** set_slot_off: power off, wait 1 s, power indicator off and attention indicator on. */
function setSlotOff(k: GuestKernel, slot: PciehpSlot): void {
  const { regs } = slot;
  if (regs.powerCtrl) {
    regs.setPower(false);
    k.clock.sleep(1000 * MS);
  }
  regs.setIndicators(PCI_EXP_SLTCTL_PWR_IND_OFF, PCI_EXP_SLTCTL_ATTN_IND_ON);
}

/**
 * pciehp_disable_slot / remove_board: unconfigure the devices, power off,
 * wait 1 s (and ignore the presence change that causes), then turn the
 * power indicator off. On QEMU's ports that last write completes the
 * removal (pcie_cap_slot_write_config: power controller and indicator off
 * with presence detected).
 */
export function disableSlot(k: GuestKernel, slot: PciehpSlot): void {
  const { regs } = slot;
  unconfigureSlotDevices(k, slot.port);
  if (regs.powerCtrl) {
    regs.setPower(false);
    k.clock.sleep(1000 * MS);
    slot.pending &= ~(PCI_EXP_SLTSTA_PDC | PCI_EXP_SLTSTA_DLLSC);
  }
  regs.setIndicators(PCI_EXP_SLTCTL_PWR_IND_OFF, undefined);
  slot.state = 'off';
}
