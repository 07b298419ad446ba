import type { AccessObserver } from '../../memory/address-space.js';
import {
  IOMMU_RO, IOMMU_WO, MEMTX_ACCESS_ERROR, MEMTX_DECODE_ERROR, MEMTX_OK, type MemTxAttrs, type MemTxResult,
} from '../../memory/index.js';
import { PCIError } from '../bus.js';
import { Edu } from '../edu.js';
import type { HostIommuKind } from './host-iommu.js';
import { VfioContainer } from './vfio-container.js';

const PAGE = 4096;
const FAST = 1n << 53n;

function hex(v: number | bigint): string {
  return `0x${v.toString(16)}`;
}

/** Where the model lists itself for `info iommu` (Machine.iommuInfo). */
export type InfoList = { readonly name: string; info(): string }[];

/**
 * `-device vfio-pci-model`: a host PCI device assigned to the guest through
 * VFIO, as QEMU's vfio-pci presents one. The name is not QEMU's `vfio-pci`
 * on purpose: that driver needs a host device to open (host=, sysfsdev=)
 * and a kernel VFIO container, and a QEMU command line naming it should
 * fail here rather than quietly get a model. What the model keeps of
 * vfio-pci is everything the vIOMMU sees:
 * - the guest sees the host device's own identity and registers, as with
 *   real assignment; the host device here is an edu-style DMA engine
 *   (1234:11e8, QEMU's edu register map), so the guest's edu driver is its
 *   driver and every edu workload runs on it;
 * - its DMA does not go through the bus-master address space (the vIOMMU's
 *   translate): it goes through the host IOMMU, a shadow the machine keeps
 *   in step by registering MAP|UNMAP notifiers through a memory listener
 *   and replaying (VfioContainer), as QEMU's vfio does;
 * - a vIOMMU that cannot send MAP fails realize with its own message
 *   behind QEMU's "memory listener initialization failed: Region %s: ";
 * - on sPAPR hosts the DMA window is created before the notifier is
 *   registered (the two-step);
 * - every DMA is reported through `dmaObserver` (the machine's DMA tap
 *   feeds it to the oracle with path 'vfio');
 * - unplug unregisters the notifiers and drops the shadow.
 */
export class VfioPciModel extends Edu {
  override readonly typeName: string = 'vfio-pci-model';
  /** Set by the machine's DMA tap. */
  dmaObserver: AccessObserver | undefined;
  private cont: VfioContainer | undefined;
  private infoEntry: InfoList[number] | undefined;
  private faultsLogged = 0;

  constructor(dmaMask: bigint, readonly hostIommuKind: HostIommuKind, private readonly infoList?: InfoList) {
    super(dmaMask);
  }

  get container(): VfioContainer {
    if (!this.cont) throw new Error('vfio-pci-model: not realized');
    return this.cont;
  }

  /** "vfio-pci-model 00:03.0", for messages. */
  get label(): string {
    return `${this.typeName} ${this.bdfString}${this.id !== undefined ? ` (${this.id})` : ''}`;
  }

  protected override realizeDevice(): void {
    super.realizeDevice();
    const ctx = this.ctx;
    this.cont = new VfioContainer({ mem: ctx.mem, systemAs: ctx.systemMemory, log: ctx.log }, this.hostIommuKind, () => this.label);
    const err = this.cont.connect(this.busMaster.dmaAddressSpace ?? ctx.systemMemory);
    if (err) throw new PCIError(err);
    if (this.infoList) {
      this.infoEntry = { name: 'vfio-pci-model', info: () => this.info() };
      this.infoList.push(this.infoEntry);
    }
  }

  override unrealize(): void {
    this.cont?.disconnect();
    this.dropInfo();
    super.unrealize();
  }

  override abortRealize(): void {
    this.cont?.disconnect();
    this.dropInfo();
    super.abortRealize();
  }

  private dropInfo(): void {
    const i = this.infoEntry && this.infoList ? this.infoList.indexOf(this.infoEntry) : -1;
    if (i >= 0) this.infoList!.splice(i, 1);
    this.infoEntry = undefined;
  }

  /** The IOMMU hook re-pointed the function (a vIOMMU attached after it): follow the new address space. */
  private follow(c: VfioContainer): void {
    const target = this.busMaster.dmaAddressSpace;
    if (!target || target === c.addressSpace) return;
    const err = c.connect(target);
    if (err) {
      c.failed = err;
      this.ctx.log.err('vfio', `${this.label}: ${err}`);
    }
  }

  override dmaRead(addr: number | bigint, dst: Uint8Array): MemTxResult {
    return this.hostDma(addr, dst, false);
  }
  override dmaWrite(addr: number | bigint, src: Uint8Array): MemTxResult {
    return this.hostDma(addr, src, true);
  }

  /**
   * A DMA as the assigned device does it: each piece translated by the
   * host IOMMU (the shadow), then performed on system memory. What the
   * shadow does not map, or maps without the permission, is a host IOMMU
   * fault: the write is dropped, the read returns zeros.
   */
  private hostDma(addr: number | bigint, buf: Uint8Array, write: boolean): MemTxResult {
    const c = this.container;
    this.follow(c);
    const sys = this.ctx.systemMemory;
    const obs = this.dmaObserver;
    if (!this.busMaster.isEnabled || c.failed !== undefined) {
      if (!write) buf.fill(0);
      obs?.(addr, buf.length, write, MEMTX_DECODE_ERROR, null, 0);
      return MEMTX_DECODE_ERROR;
    }
    const need = write ? IOMMU_WO : IOMMU_RO;
    const attrs: MemTxAttrs = { requesterId: this.requesterId };
    const low = typeof addr === 'number' || addr < FAST;
    const base = low ? Number(addr) : 0;
    let result = MEMTX_OK;
    for (let off = 0; off < buf.length;) {
      let iova: number | bigint;
      let gpa = -1;
      let chunk: number;
      let perm = 0;
      if (low) {
        iova = base + off;
        const e = c.host.lookup(iova);
        chunk = Math.min(buf.length - off, e ? e.end - iova : PAGE - (iova % PAGE));
        if (e) {
          gpa = e.gpa + (iova - e.iova);
          perm = e.perm;
        }
      } else {
        iova = (addr as bigint) + BigInt(off);
        const e = c.host.lookupHigh(iova);
        chunk = Math.min(buf.length - off, e ? Number(e.end - iova) : PAGE - Number(iova % BigInt(PAGE)));
        if (e) {
          gpa = e.gpa + Number(iova - e.iova);
          perm = e.perm;
        }
      }
      const piece = buf.subarray(off, off + chunk);
      let r: MemTxResult;
      if (gpa < 0 || !(perm & need)) {
        r = MEMTX_ACCESS_ERROR;
        if (!write) piece.fill(0);
        c.host.counters.faults++;
        if (this.faultsLogged++ < 8) {
          this.ctx.log.warn('vfio', `${this.label}: host IOMMU fault: DMA ${write ? 'write' : 'read'} at IOVA ${hex(iova)} (${gpa < 0 ? 'not mapped' : 'no permission'})`);
        }
        obs?.(iova, chunk, write, r, null, 0);
      } else {
        r = write ? sys.writeBytes(gpa, piece, attrs) : sys.readBytes(gpa, piece, attrs);
        obs?.(iova, chunk, write, r, sys, gpa);
      }
      result |= r;
      off += chunk;
    }
    return result;
  }

  /** What `info iommu` shows for the device: the host IOMMU, its notifiers and counters. */
  info(): string {
    const c = this.cont;
    if (!c) return `${this.label}: not realized\n`;
    const h = c.host;
    const lines = [
      `${this.label}: host IOMMU ${h.kind}, ${h.mappingCount} mapping${h.mappingCount === 1 ? '' : 's'} (${hex(h.mappedBytes)} bytes)${c.failed ? `, FAILED: ${c.failed}` : ''}`,
      `  listening on "${c.addressSpace?.name ?? '(none)'}"`,
    ];
    for (const w of h.windows) lines.push(`  window ${hex(w.start)}-${hex(w.start + w.size - 1n)}, ${hex(w.pageSize)} pages`);
    const ns = c.notifiers;
    if (ns.length === 0) lines.push('  notifiers: none');
    for (const { region, notifier: n } of ns) {
      lines.push(`  notifier: ${region.mr.name} UNMAP|MAP [${hex(n.start)}, ${hex(n.end)}] idx ${n.iommuIndex}`);
    }
    const k = c.counters;
    lines.push(`  events: ${k.mapEvents} MAP, ${k.unmapEvents} UNMAP, ${k.replays} replays, ${k.ramSections} RAM sections; `
      + `host: ${h.counters.maps} maps, ${h.counters.unmaps} unmaps, ${h.counters.mapErrors} map errors, ${h.counters.exchanged} exchanged, ${h.counters.faults} faults`);
    return lines.join('\n') + '\n';
  }
}
