import type { GuestDevice } from '../../../guest/device.js';
import { EduDriver } from '../../../guest/drivers/edu.js';
import { VfioPciBinding } from '../../../guest/vfio/binding.js';
import { eduUserDma } from '../../../guest/vfio/edu-user-dma.js';
import type { ActionContext } from '../../hotplug/actions.js';
import type { TrafficResult } from '../consumer.js';

const LEN = 256;
const PAGE = 4096;

function fresh(a: ActionContext): Uint8Array {
  return Uint8Array.from({ length: LEN }, () => a.rng.next() & 0xff);
}

function unbound(dev: GuestDevice): TrafficResult {
  return { ops: 0, bytes: 0, wrongData: 1, hang: false, errors: [`${dev.name} is ${dev.driver ? `bound to ${dev.driver}` : 'not bound to a driver'}, not edu`] };
}

function hasEdu(a: ActionContext, dev: GuestDevice): boolean {
  return a.kernel.drivers.drivers.some((d) => d instanceof EduDriver && d.instances.has(dev));
}

/**
 * Traffic through an edu-style DMA engine (edu, vfio-pci-model): the
 * guest's DMA API maps a buffer of two pages once (dma_map_single), and
 * each operation round-trips random data through the device (RAM ->
 * device -> RAM at the second page), compared.
 */
export function engineSteady(a: ActionContext, dev: GuestDevice, ops: number): TrafficResult {
  if (!hasEdu(a, dev)) return unbound(dev);
  const k = a.kernel;
  const buf = k.mem.alloc(2 * PAGE);
  if (buf === undefined) return { ops: 0, bytes: 0, wrongData: 1, hang: false, errors: ['out of guest memory'] };
  const iova = k.dma.mapSingle(dev, buf, 2 * PAGE, 'bidirectional');
  const errors: string[] = [];
  let wrong = 0;
  let done = 0;
  let hang = false;
  for (let i = 0; i < ops && !hang; i++) {
    const data = fresh(a);
    k.port.writeBytes(buf, data);
    k.port.writeBytes(buf + PAGE, new Uint8Array(LEN));
    hang = !eduUserDma(k, dev, iova, LEN, false) || !eduUserDma(k, dev, iova + PAGE, LEN, true);
    const back = new Uint8Array(LEN);
    k.port.readBytes(buf + PAGE, back);
    if (!hang && back.some((v, j) => v !== data[j])) {
      wrong++;
      if (errors.length < 3) errors.push(`${dev.name}: round trip ${i + 1} came back different`);
    }
    done++;
  }
  if (hang) errors.push(`${dev.name}: the DMA engine did not finish`);
  k.dma.unmapSingle(dev, iova, 2 * PAGE, 'bidirectional');
  k.mem.freePages(buf, 2 * PAGE);
  return { ops: done, bytes: done * 2 * LEN, wrongData: wrong, hang, errors };
}

/**
 * Unmap churn: per operation the DMA API maps a page, the device reads
 * it, the page is unmapped, the device tries the old IOVA again (after a
 * strict unmap it must fault; in lazy mode it may land in the flush
 * window, which the oracle allows and counts), then a fresh mapping takes
 * the data back from the device, compared.
 */
export function engineChurn(a: ActionContext, dev: GuestDevice, ops: number): TrafficResult {
  if (!hasEdu(a, dev)) return unbound(dev);
  const k = a.kernel;
  const errors: string[] = [];
  let wrong = 0;
  let done = 0;
  let hang = false;
  for (let i = 0; i < ops && !hang; i++) {
    const src = k.mem.alloc(PAGE);
    const dst = k.mem.alloc(PAGE);
    if (src === undefined || dst === undefined) return { ops: done, bytes: done * 2 * LEN, wrongData: wrong + 1, hang, errors: [...errors, 'out of guest memory'] };
    const data = fresh(a);
    k.port.writeBytes(src, data);
    k.port.writeBytes(dst, new Uint8Array(LEN));
    const i1 = k.dma.mapSingle(dev, src, PAGE, 'to-device');
    hang = !eduUserDma(k, dev, i1, LEN, false);
    k.dma.unmapSingle(dev, i1, PAGE, 'to-device');
    // The stray read lands in the second half of the device buffer, so a fault (zeros) leaves the data alone.
    if (!hang) eduUserDma(k, dev, i1, LEN, false, 0x800);
    const i2 = k.dma.mapSingle(dev, dst, PAGE, 'from-device');
    hang ||= !eduUserDma(k, dev, i2, LEN, true);
    k.dma.unmapSingle(dev, i2, PAGE, 'from-device');
    const back = new Uint8Array(LEN);
    k.port.readBytes(dst, back);
    if (!hang && back.some((v, j) => v !== data[j])) {
      wrong++;
      if (errors.length < 3) errors.push(`${dev.name}: churn operation ${i + 1} came back different`);
    }
    k.mem.freePages(src, PAGE);
    k.mem.freePages(dst, PAGE);
    done++;
  }
  if (hang) errors.push(`${dev.name}: the DMA engine did not finish`);
  return { ops: done, bytes: done * 2 * LEN, wrongData: wrong, hang, errors };
}

/**
 * bind/unbind: vfio-pci takes the device and a VFIO user maps and DMAs
 * (VfioPciBinding), exits, the host driver binds again and moves data.
 * A guest that cannot give the device to VFIO (no IOMMU group) refuses.
 */
export function engineBindUnbind(a: ActionContext, dev: GuestDevice): TrafficResult {
  const k = a.kernel;
  const b = VfioPciBinding.bind(k, dev, { transfers: 2, rng: () => a.rng.next() });
  if (!b.binding) return { ops: 0, bytes: 0, wrongData: 0, hang: false, errors: [], refused: b.errors.join('; ') };
  const errors = [...b.errors];
  const kind = b.binding.containerKind ?? 'none';
  let wrong = b.ret ? 1 : 0;
  const u = b.binding.unbind(true);
  errors.push(...u.errors);
  if (u.ret) wrong++;
  let ops = b.ops + u.ops;
  let bytes = b.bytes;
  let hang = false;
  if (hasEdu(a, dev)) {
    const s = engineSteady(a, dev, 2);
    ops += s.ops;
    bytes += s.bytes;
    wrong += s.wrongData;
    hang = s.hang;
    errors.push(...s.errors);
  } else if (u.ret === 0) {
    wrong++;
    errors.push(`${dev.name}: the host driver did not bind again (${dev.driver ?? 'no driver'})`);
  }
  return { ops, bytes, wrongData: wrong, hang, errors, notes: [`VFIO container: ${kind}`] };
}
