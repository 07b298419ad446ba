import { withDmaTrace } from './dma-trace.js';
import type { DmaObserver } from '../guest/oracle/observation.js';
import { outcomeOf } from '../guest/oracle/observation.js';
import { MEMTX_OK } from '../memory/attrs.js';
import type { AccessObserver } from '../memory/address-space.js';
import { PCIDevice } from '../pci/device.js';
import { iommuRequesterId } from '../pci/iommu.js';
import { VfioPciModel } from '../pci/vfio/vfio-pci-model.js';
import type { Machine } from './machine.js';
import { VhostNet } from '../vhost/vhost-net.js';
import { VirtioNetPci } from '../virtio/net/virtio-net-pci.js';

/**
 * Feeds every DMA of every emulated PCI function to an observer (the DMA
 * oracle, traces): an AccessObserver on each function's bus-master address
 * space, tagged with the requester ID the IOMMU sees at the time of the
 * access (bus numbers change during enumeration). Writes to the platform's
 * MSI doorbell are interrupts, not DMA, and are left out. Devices added
 * later (hot-plug) are tapped as they arrive.
 */
export function installDmaTap(m: Machine, sink: DmaObserver): void {
  sink = withDmaTrace(sink, m.mem.tracer);
  const msi = m.describe().interrupts.msi;
  const inDoorbell = (a: number): boolean => msi !== undefined && a >= msi.base && a < msi.base + msi.size;
  const tap = (dev: PCIDevice): void => {
    if (dev.isBridge) return;
    const name = `${dev.typeName}${dev.id !== undefined ? ` (${dev.id})` : ''}`;
    // The VFIO model's DMA goes through its host IOMMU shadow, not the bus-master address space.
    const path = dev instanceof VfioPciModel ? 'vfio' : 'emulated';
    const observer: AccessObserver = (addr, len, isWrite, result, target, targetAddr) => {
      const iova = Number(addr);
      if (isWrite && inDoorbell(iova)) return;
      sink.observe({
        requesterId: iommuRequesterId(dev),
        iova,
        length: len,
        write: isWrite,
        outcome: outcomeOf(result),
        ...(result === MEMTX_OK && target ? { gpa: targetAddr } : {}),
        path,
        device: `${dev.bdfString} ${name}`,
      });
    };
    if (dev instanceof VfioPciModel) dev.dmaObserver = observer;
    else dev.busMaster.as.observer = observer;
  };
  // The vhost worker reaches guest RAM directly: its accesses arrive as records, stamped with the round's start time.
  const tapVhost = (dev: PCIDevice): void => {
    if (!(dev instanceof VirtioNetPci) || !(dev.net.backend instanceof VhostNet)) return;
    const name = `${dev.bdfString} ${dev.typeName}${dev.id !== undefined ? ` (${dev.id})` : ''}`;
    dev.net.backend.observer = (a) => sink.observe({
      requesterId: iommuRequesterId(dev), iova: a.iova, length: a.length, write: a.write, outcome: a.outcome,
      ...(a.gpa !== undefined ? { gpa: a.gpa } : {}), path: 'vhost', device: name, time: a.time,
    });
  };
  for (const d of m.pciDevices()) {
    tap(d);
    tapVhost(d);
  }
  m.onDeviceAdded((d) => {
    if (d instanceof PCIDevice) {
      tap(d);
      tapVhost(d);
    }
  });
}
