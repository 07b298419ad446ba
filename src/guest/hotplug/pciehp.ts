import type { GuestTimer } from '../clock.js';
import { EEXIST, ENODEV } from '../errno.js';
import type { GuestKernel } from '../kernel.js';
import type { PciFunction } from '../pci-core/device.js';
import { pciEnableMsi, pciEnableMsixVector0 } from '../pci-core/msi.js';
import {
  PCI_EXP_SLTCTL_ATTN_IND_OFF, PCI_EXP_SLTCTL_ATTN_IND_ON, PCI_EXP_SLTCTL_PWR_IND_BLINK, PCI_EXP_SLTCTL_PWR_IND_OFF,
  PCI_EXP_SLTCTL_PWR_IND_ON, PCI_EXP_SLTSTA_ABP, PCI_EXP_SLTSTA_DLLSC, PCI_EXP_SLTSTA_PDC, PCI_EXP_SLTSTA_PFD,
  PCI_EXP_TYPE_DOWNSTREAM, PCI_EXP_TYPE_ROOT_PORT,
} from '../pci-core/regs.js';
import { isHotplugBridge } from '../pci-core/resources.js';
import { PCIEHP_EVENTS, SlotRegisters } from './pciehp-hpc.js';
import { IrqThread } from './irq-thread.js';
import {
  BUTTON_DELAY_NS, disableSlot, DISABLE_SLOT, enableSlot, MS, PciehpSlot, type PciehpOptions, type SlotState,
} from './pciehp-ctrl.js';

export { PciehpSlot, type PciehpOptions, type SlotState } from './pciehp-ctrl.js';

/**
 * The guest's PCI Express native hot-plug driver (Linux
 * drivers/pci/hotplug/pciehp_core.c, _hpc.c, _ctrl.c): it binds to every
 * root or downstream port whose slot is Hot-Plug Capable, takes its
 * interrupt (MSI-X, MSI, or polling where the guest knows no MSI doorbell),
 * enables the slot events and runs Linux's slot state machine. A device
 * arriving (Presence Detect Changed) is powered, scanned, given BARs in the
 * port's windows, probed by the IOMMU core and bound to its driver; an
 * unplug request (Attention Button Pressed) blinks the power indicator and
 * waits (see PciehpOptions.unplugAck); disabling the slot unbinds and
 * releases the devices, then turns power and the power indicator off,
 * which lets the machine remove them.
 */
export class Pciehp {
  readonly slots: PciehpSlot[] = [];
  readonly unplugAck: 'script' | 'linux';
  private readonly pollNs: number;
  private readonly ist: GuestTimer;
  private readonly poll: GuestTimer;
  private readonly irqThread = new IrqThread(() => {
    for (const slot of this.slots) this.handle(slot);
  });

  constructor(private readonly k: GuestKernel, opts: PciehpOptions = {}) {
    this.unplugAck = opts.unplugAck ?? 'script';
    this.pollNs = opts.pollNs ?? 2000 * MS;
    this.ist = k.clock.timer(() => this.service(), 'pciehp-ist');
    this.poll = k.clock.timer(() => {
      this.service();
      this.poll.modIn(this.pollNs);
    }, 'pciehp-poll');
  }

  /** pciehp_probe for each hot-plug port found by enumeration. */
  probe(): void {
    const used = new Set<string>();
    for (const fn of this.k.pci?.functions ?? []) {
      const type = fn.pcieType;
      if ((type !== PCI_EXP_TYPE_ROOT_PORT && type !== PCI_EXP_TYPE_DOWNSTREAM) || !isHotplugBridge(fn)) continue;
      const regs = new SlotRegisters(fn, this.k.log);
      const populated = (fn.subordinate?.devices.length ?? 0) > 0;
      if (populated && !regs.cardPresent() && regs.linkActive() !== true) {
        // Linux takes a port only when the firmware grants native hot-plug
        // (_OSC). QEMU's q35 with ACPI PCI hot-plug denies it and reports no
        // presence for devices present at start; the guest cannot run _OSC,
        // so that register state is the sign, and the port is left alone.
        regs.info('populated slot without Presence Detect: native hot-plug is not in charge here (ACPI hot-plug); port left alone');
        continue;
      }
      // pci_create_slot/make_slot_name: a duplicate physical slot number gets "-1", "-2"...
      let name = String(regs.psn);
      for (let dup = 1; used.has(name); dup++) name = `${regs.psn}-${dup}`;
      used.add(name);
      regs.info(regs.capsLine());
      const state: SlotState = populated ? 'on' : 'off';
      const slot = new PciehpSlot(regs, name, state, (s) => this.k.clock.timer(() => this.buttonWorkDone(s), 'pciehp-button'));
      // pcie_init: an empty slot whose power is on is turned off first.
      if (regs.powerCtrl && regs.powerOn() && !regs.cardPresent() && !regs.linkActive()) regs.setPower(false);
      const irq = this.setupInterrupt(fn);
      regs.enableNotification(!irq);
      if (!irq) {
        regs.info(`Slot(${name}): no MSI on this platform, polling every ${this.pollNs / 1e9} s`);
        if (!this.poll.pending) this.poll.modIn(this.pollNs);
      }
      this.slots.push(slot);
      this.checkPresence(slot);
    }
    this.service();
  }

  /** pcie_port_enable_irq_vec: one MSI-X (else MSI) vector whose handler wakes the IRQ thread. */
  private setupInterrupt(fn: PciFunction): boolean {
    const msg = this.k.msi.alloc(() => this.wake());
    if (!msg) return false;
    fn.setMaster();
    return pciEnableMsixVector0(this.k.port, fn, msg.address, msg.data) || pciEnableMsi(fn, msg.address, msg.data);
  }

  /** pciehp_isr: the interrupt wakes the IRQ thread, which reads and clears Slot Status. */
  private wake(): void {
    this.ist.mod(this.k.clock.now());
  }

  /** pciehp_check_presence: a slot whose occupancy disagrees with its state gets a presence event. */
  private checkPresence(slot: PciehpSlot): void {
    const occupied = slot.regs.cardPresent() || slot.regs.linkActive() === true;
    if ((occupied && (slot.state === 'off' || slot.state === 'blinking-on')) || (!occupied && (slot.state === 'on' || slot.state === 'blinking-off'))) {
      slot.pending |= PCI_EXP_SLTSTA_PDC;
    }
  }

  /** A slot's state, read afresh (the IRQ thread changes it). */
  stateOf(slot: PciehpSlot): SlotState {
    return slot.state;
  }

  /** The slot below a port, by the port's function. */
  slotOf(port: PciFunction): PciehpSlot | undefined {
    return this.slots.find((s) => s.port === port);
  }

  /**
   * The IRQ thread (pciehp_ist) for every slot: read and clear Slot Status,
   * then handle the button, power faults, disable requests and presence
   * changes. Runs again if an interrupt arrived meanwhile.
   */
  service(): void {
    this.irqThread.wake();
  }

  private handle(slot: PciehpSlot): void {
    const { regs } = slot;
    const status = regs.readStatus() & PCIEHP_EVENTS;
    regs.clearStatus(status);
    const events = status | slot.pending;
    slot.pending = 0;
    if (events & PCI_EXP_SLTSTA_ABP) this.buttonPress(slot);
    if (events & PCI_EXP_SLTSTA_PFD) {
      regs.err(`Slot(${slot.name}): Power fault`);
      regs.setIndicators(PCI_EXP_SLTCTL_PWR_IND_OFF, PCI_EXP_SLTCTL_ATTN_IND_ON);
    }
    if (events & DISABLE_SLOT) this.disableRequest(slot);
    else if (events & (PCI_EXP_SLTSTA_PDC | PCI_EXP_SLTSTA_DLLSC)) this.presenceOrLinkChange(slot, events);
  }

  /** pciehp_handle_button_press. */
  private buttonPress(slot: PciehpSlot): void {
    const { regs, name } = slot;
    switch (slot.state) {
      case 'off':
      case 'on':
        if (slot.state === 'on') {
          slot.state = 'blinking-off';
          regs.info(this.unplugAck === 'linux' ? `Slot(${name}): Button press: will power off in 5 sec`
            : `Slot(${name}): Button press: will power off when the removal is acknowledged`);
          if (this.unplugAck === 'linux') slot.buttonWork.modIn(BUTTON_DELAY_NS);
        } else {
          slot.state = 'blinking-on';
          regs.info(`Slot(${name}): Button press: will power on in 5 sec`);
          slot.buttonWork.modIn(BUTTON_DELAY_NS);
        }
        regs.setIndicators(PCI_EXP_SLTCTL_PWR_IND_BLINK, PCI_EXP_SLTCTL_ATTN_IND_OFF);
        break;
      case 'blinking-off':
      case 'blinking-on':
        // A second press within the grace period cancels the request.
        slot.buttonWork.del();
        if (slot.state === 'blinking-off') {
          slot.state = 'on';
          regs.setIndicators(PCI_EXP_SLTCTL_PWR_IND_ON, PCI_EXP_SLTCTL_ATTN_IND_OFF);
          regs.info(`Slot(${name}): Button press: canceling request to power off`);
        } else {
          slot.state = 'off';
          regs.setIndicators(PCI_EXP_SLTCTL_PWR_IND_OFF, PCI_EXP_SLTCTL_ATTN_IND_OFF);
          regs.info(`Slot(${name}): Button press: canceling request to power on`);
        }
        break;
      default:
        regs.err(`Slot(${name}): Ignoring invalid state ${slot.state}`);
    }
  }

  /** pciehp_queue_pushbutton_work: the grace period ended. */
  private buttonWorkDone(slot: PciehpSlot): void {
    if (slot.state === 'blinking-off') slot.pending |= DISABLE_SLOT;
    else if (slot.state === 'blinking-on') slot.pending |= PCI_EXP_SLTSTA_PDC;
    else return;
    this.service();
  }

  /** pciehp_handle_disable_request. */
  private disableRequest(slot: PciehpSlot): void {
    slot.buttonWork.del();
    slot.state = 'power-off';
    disableSlot(this.k, slot);
  }

  /** pciehp_handle_presence_or_link_change. */
  private presenceOrLinkChange(slot: PciehpSlot, events: number): void {
    const { regs, name } = slot;
    // A slot that was on lost its card or link: turn it off, even if occupied again.
    if (slot.state === 'blinking-off' || slot.state === 'on') {
      slot.buttonWork.del();
      slot.state = 'power-off';
      if (events & PCI_EXP_SLTSTA_DLLSC) regs.info(`Slot(${name}): Link Down`);
      if (events & PCI_EXP_SLTSTA_PDC) regs.info(`Slot(${name}): Card not present`);
      disableSlot(this.k, slot);
    }
    const present = regs.cardPresent();
    const link = regs.linkActive() === true;
    if (!present && !link) {
      if (slot.state === 'blinking-on') {
        slot.state = 'off';
        slot.buttonWork.del();
        regs.setIndicators(PCI_EXP_SLTCTL_PWR_IND_OFF, undefined);
        regs.info(`Slot(${name}): Card not present`);
      }
      return;
    }
    if (slot.state === 'blinking-on' || slot.state === 'off') {
      slot.buttonWork.del();
      slot.state = 'power-on';
      if (present) regs.info(`Slot(${name}): Card present`);
      if (link) regs.info(`Slot(${name}): Link Up`);
      enableSlot(this.k, slot);
    }
  }

  /**
   * The removal's acknowledgement (what the 5 s work does in Linux, or an
   * operator's `echo 0 > /sys/bus/pci/slots/N/power`): with an unplug
   * request pending, disable the slot now. Slot Status is read first, so a
   * request the IRQ thread has not seen yet counts. Returns undefined when
   * done, else why not.
   */
  acknowledge(slot: PciehpSlot): string | undefined {
    this.service();
    if (slot.state !== 'blinking-off') return `no unplug request is pending on Slot(${slot.name}) (state ${slot.state})`;
    slot.pending |= DISABLE_SLOT;
    this.service();
    return undefined;
  }

  /**
   * pciehp_sysfs_enable_slot (`echo 1 > /sys/bus/pci/slots/N/power`), after
   * letting the IRQ thread read Slot Status: an occupied slot that is off is
   * enabled. Returns 0 when the slot is on now, -EEXIST when it already was,
   * -ENODEV when there is nothing to enable.
   */
  rescan(slot: PciehpSlot): number {
    if (slot.state === 'on' || slot.state === 'blinking-off') return -EEXIST;
    this.service();
    if (this.stateOf(slot) !== 'off' && this.stateOf(slot) !== 'blinking-on') return this.stateOf(slot) === 'on' ? 0 : -ENODEV;
    if (!slot.regs.cardPresent() && slot.regs.linkActive() !== true) return -ENODEV;
    slot.pending |= PCI_EXP_SLTSTA_PDC;
    this.service();
    return this.stateOf(slot) === 'on' ? 0 : -ENODEV;
  }
}
