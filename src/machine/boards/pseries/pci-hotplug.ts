import type { EventLog } from '../../../base/event-log.js';
import type { PCIBus } from '../../../pci/bus.js';
import type { PCIDevice } from '../../../pci/device.js';
import type { PciHotplugHandler } from '../board.js';
import { SpaprDrcPci, SPAPR_DR_ENTITY_SENSE_PRESENT } from './drc.js';
import { RTAS_LOG_V6_HP_ACTION_ADD, RTAS_LOG_V6_HP_ACTION_REMOVE, type SpaprEventQueue } from './events.js';
import { spaprPciDeviceFragment } from './pci-dt.js';

const PCI_SLOT = (devfn: number) => devfn >> 3;
const PCI_FUNC = (devfn: number) => devfn & 7;

/**
 * PCI hot-plug on an sPAPR PHB (QEMU 7.2 hw/ppc/spapr_pci.c
 * spapr_pci_pre_plug, spapr_pci_plug, spapr_pci_unplug_request and
 * spapr_pci_unplug): one DRC per devfn of the root bus. A hot-added
 * function is attached to its DRC and, once function 0 is there, an add
 * event goes out for every present function of the slot; removal marks
 * the slot's DRCs and sends remove events, and completes when the guest
 * isolates a configured DRC (or at once when the guest never took the
 * device), with the function reset first. Functions present at start are
 * attached and ready (configured), as cold-plugged ones are in QEMU.
 * Hot-plugging a bridge is not modelled (QEMU 7.2 adds DRCs below it).
 */
export class SpaprPhbHotplug implements PciHotplugHandler {
  readonly tag = 'spapr-pci';
  readonly pendingDeletedEvent = false;
  readonly drcs: SpaprDrcPci[] = [];
  private readonly byIndex = new Map<number, SpaprDrcPci>();

  constructor(readonly where: string, private readonly bus: PCIBus, phbIndex: number, private readonly events: SpaprEventQueue,
    private readonly log: EventLog, release: (dev: PCIDevice) => void) {
    // spapr_phb_realize: PCI_SLOT_MAX * 8 connectors, id (index << 16) | (bus 0 << 8) | devfn.
    for (let devfn = 0; devfn < 256; devfn++) {
      const drc = new SpaprDrcPci((phbIndex << 16) | devfn, (d) => {
        this.log.info(this.tag, `${this.where}: DRC ${d.name} (0x${d.index.toString(16)}) released: ${d.dev!.typeName} at ${d.dev!.bdfString} goes`);
        release(d.dev!);
      }, (dev, d) => spaprPciDeviceFragment(dev, d.index, phbIndex));
      this.drcs.push(drc);
      this.byIndex.set(drc.index, drc);
    }
  }

  drcByIndex(index: number): SpaprDrcPci | undefined {
    return this.byIndex.get(index >>> 0);
  }

  drcOf(dev: PCIDevice): SpaprDrcPci | undefined {
    return dev.bus === this.bus ? this.drcs[dev.devfn] : undefined;
  }

  /** A function on the root bus: attached to its DRC; one present at start is ready at once (spapr_drc_reset). */
  attach(dev: PCIDevice, coldPlug: boolean): void {
    const drc = this.drcOf(dev);
    if (!drc) return;
    drc.attach(dev);
    if (coldPlug) drc.reset();
  }

  prePlug(devfn: number | undefined): string | undefined {
    if (devfn === undefined) return undefined;
    const slot = PCI_SLOT(devfn);
    const fn0 = this.bus.devices[slot << 3];
    if (fn0 && PCI_FUNC(devfn) !== 0) {
      return `PCI: slot ${slot} function 0 already occupied by ${fn0.typeName}, additional functions can no longer be exposed to guest.`;
    }
    const drc = this.drcs[devfn];
    if (drc?.dev) return `PCI: slot ${slot} already occupied by ${(this.bus.devices[slot << 3] ?? drc.dev).typeName}`;
    return undefined;
  }

  /** spapr_pci_plug for a hot-added function: function 0 signals every present function of its slot. */
  plugged(dev: PCIDevice): string | undefined {
    if (dev.isBridge) {
      this.drcOf(dev)?.detach();
      return `${dev.typeName}: hot-plugging a PCI bridge on pseries is not modelled by viommu`;
    }
    if (PCI_FUNC(dev.devfn) !== 0) return undefined;
    for (let f = 0; f < 8; f++) {
      const drc = this.drcs[dev.devfn + f]!;
      if (drc.entitySense() === SPAPR_DR_ENTITY_SENSE_PRESENT) {
        this.events.hotplugByIndex(RTAS_LOG_V6_HP_ACTION_ADD, drc.index);
        this.log.info(this.tag, `${this.where}: hot-plug add event for DRC ${drc.name} (0x${drc.index.toString(16)})`);
      }
    }
    return undefined;
  }

  /** spapr_pci_unplug_request. */
  unplugRequest(dev: PCIDevice): string {
    const drc = this.drcOf(dev);
    if (!drc || drc.dev !== dev) return `Bus '${dev.bus.name}' does not support hotplugging`;
    if (drc.unplugRequested) return `PCI device unplug already in progress for device ${dev.id ?? '(null)'}`;
    if (dev.isBridge) return 'PCI: Hot unplug of PCI bridges not supported';
    const base = dev.devfn & ~7;
    if (PCI_FUNC(dev.devfn) === 0) {
      // Removing function 0 takes the other functions of the slot with it.
      for (let f = 1; f < 8; f++) {
        const d = this.drcs[base + f]!;
        if (d.entitySense() === SPAPR_DR_ENTITY_SENSE_PRESENT && !d.unplugRequested) d.unplugRequest();
      }
    }
    const r = drc.unplugRequest();
    if (PCI_FUNC(dev.devfn) === 0) {
      for (let f = 7; f >= 0; f--) {
        const d = this.drcs[base + f]!;
        if (d.entitySense() === SPAPR_DR_ENTITY_SENSE_PRESENT) this.events.hotplugByIndex(RTAS_LOG_V6_HP_ACTION_REMOVE, d.index);
      }
    }
    return r;
  }

  /** spapr_drc_reset_all (machine reset): pending removals complete; connectors with a device are ready. */
  reset(): void {
    for (const d of this.drcs) d.reset();
  }
}
