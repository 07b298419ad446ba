import { dmaBitMask, type GuestDevice } from '../device.js';
import { dmaMappingError } from '../dma-ops.js';
import { EIO, ENODEV, ENOMEM, ENOSPC } from '../errno.js';
import type { GuestKernel } from '../kernel.js';
import { pciEnableDevice } from '../pci-core/enumerate.js';
import { VIRTIO_F_ACCESS_PLATFORM, VIRTIO_F_VERSION_1 } from '../virtio-core/regs.js';
import { VirtioPciDevice } from '../virtio-core/virtio-pci.js';
import type { GuestVirtqueue } from '../virtio-core/virtqueue.js';
import type { PciDriver } from './driver-core.js';

/** virtio-net (virtio 1.2 section 5.1): modern PCI ID 0x1040 + 1, feature MAC (5), config mac @0. */
export const VIRTIO_NET_PCI_VENDOR = 0x1af4;
export const VIRTIO_NET_PCI_DEVICE = 0x1041;
export const VIRTIO_NET_F_MAC = 5;
/** struct virtio_net_hdr_v1 is 12 bytes with VERSION_1 (section 5.1.6). */
export const VIRTIO_NET_HDR_LEN = 12;
/** Receive buffer: header plus a 1514-byte frame, rounded (Linux's small-buffer size without MRG_RXBUF is larger; this suffices here). */
export const RX_BUF_LEN = 2048;
const RX_QUEUE = 0;
const TX_QUEUE = 1;
const QUEUE_SIZE = 256;

interface Buf {
  readonly paddr: number;
  readonly dma: number;
  readonly len: number;
}

export interface VirtioNetInstance {
  readonly dev: GuestDevice;
  readonly vp: VirtioPciDevice;
  readonly mac: Uint8Array;
  readonly rx: GuestVirtqueue<Buf>;
  readonly tx: GuestVirtqueue<Buf>;
  /** VIRTIO_F_ACCESS_PLATFORM negotiated: buffers are mapped through the DMA API (the IOMMU). */
  readonly platform: boolean;
  /** Received frames (without the virtio-net header) not yet taken by receive(). */
  readonly inbox: Uint8Array[];
  txDone: number;
  /** page_pool-style buffers that stay mapped (PP_FLAG_DMA_MAP): recycled instead of unmapped, by direction. */
  readonly pool: { 'to-device': Buf[]; 'from-device': Buf[] };
}

/** Bytes of a pooled TX buffer (any frame plus header fits). */
const POOL_TX_LEN = 4096;

/**
 * The guest's virtio-net driver (Linux drivers/net/virtio_net.c, reduced
 * to one queue pair without offloads): VERSION_1, ACCESS_PLATFORM and MAC
 * negotiated; the rings from dma_alloc_coherent; receive buffers mapped
 * DMA_FROM_DEVICE one per chain and unmapped when used (then refilled);
 * each transmitted frame copied behind a zeroed header, mapped
 * DMA_TO_DEVICE and unmapped when the device returns it. Interrupts are
 * not used: the driver polls the used rings after each kick.
 */
export class VirtioNetDriver implements PciDriver {
  readonly name = 'virtio_net';
  readonly ids = [{ vendor: VIRTIO_NET_PCI_VENDOR, device: VIRTIO_NET_PCI_DEVICE }];
  readonly instances = new Map<GuestDevice, VirtioNetInstance>();
  /**
   * Keep buffers mapped and recycle them (Linux page_pool with
   * PP_FLAG_DMA_MAP), so the device sees a steady working set of IOVAs;
   * off (default): map and unmap per packet, as virtio_net's small buffers.
   */
  pooled = false;

  constructor(private readonly k: GuestKernel, readonly rxBuffers = 128) {}

  probe(dev: GuestDevice): number {
    const pci = dev.pci;
    if (!pci) return -ENODEV;
    pciEnableDevice(pci);
    const found = VirtioPciDevice.find(this.k, pci);
    if (!found.ok) {
      this.k.log.err(`virtio_net ${dev.name}`, found.error);
      return -ENODEV;
    }
    const vp = found.value;
    const k = this.k;
    if (k.dma.setMask(dev, dmaBitMask(64))) return -EIO;
    pci.setMaster();
    const bit = (n: number) => 1n << BigInt(n);
    const ret = vp.negotiate(bit(VIRTIO_F_VERSION_1) | bit(VIRTIO_F_ACCESS_PLATFORM) | bit(VIRTIO_NET_F_MAC));
    if (ret) return ret;
    const platform = vp.hasFeature(VIRTIO_F_ACCESS_PLATFORM);
    // Without ACCESS_PLATFORM the device uses physical addresses: rings and buffers bypass the DMA API (vring_use_dma_api).
    const alloc = platform ? (bytes: number) => k.dma.allocCoherent(dev, bytes) : undefined;
    const rx = vp.setupQueue<Buf>(RX_QUEUE, QUEUE_SIZE, alloc);
    const tx = vp.setupQueue<Buf>(TX_QUEUE, QUEUE_SIZE, alloc);
    if (typeof rx === 'number' || typeof tx === 'number') {
      vp.fail();
      return typeof rx === 'number' ? rx : (tx as number);
    }
    const mac = vp.hasFeature(VIRTIO_NET_F_MAC) ? vp.readConfig(0, 6) : Uint8Array.of(0x02, 0, 0, 0, 0, 1);
    const inst: VirtioNetInstance = { dev, vp, mac, rx, tx, platform, inbox: [], txDone: 0, pool: { 'to-device': [], 'from-device': [] } };
    for (let i = 0; i < Math.min(this.rxBuffers, rx.rings.size); i++) {
      if (this.addRxBuf(inst)) break;
    }
    vp.driverOk();
    rx.kick();
    this.instances.set(dev, inst);
    const m = [...mac].map((b) => b.toString(16).padStart(2, '0')).join(':');
    k.log.info(`virtio_net ${dev.name}`, `eth${this.instances.size - 1}: mac ${m}, ${platform ? 'ACCESS_PLATFORM (DMA API)' : 'physical addresses'}`);
    return 0;
  }

  remove(dev: GuestDevice): void {
    const inst = this.instances.get(dev);
    if (!inst) return;
    this.instances.delete(dev);
    inst.vp.reset();
    for (const q of [inst.rx, inst.tx]) {
      const dir = q === inst.rx ? 'from-device' : 'to-device';
      for (let b = q.detachUnused(); b; b = q.detachUnused()) this.releaseBuf(inst, b, dir);
      for (const b of inst.pool[dir].splice(0)) this.releaseBuf(inst, b, dir);
      const a = q.area;
      if (a) {
        if (inst.platform) this.k.dma.freeCoherent(dev, a.bytes, a.paddr, a.dma);
        else this.k.mem.freePages(a.paddr, a.bytes);
      }
    }
  }

  private mapBuf(inst: VirtioNetInstance, len: number, dir: 'to-device' | 'from-device'): Buf | undefined {
    if (this.pooled) {
      const have = inst.pool[dir].pop();
      if (have) return have;
      len = dir === 'to-device' ? POOL_TX_LEN : RX_BUF_LEN;
    }
    const paddr = this.k.mem.alloc(len);
    if (paddr === undefined) return undefined;
    if (!inst.platform) return { paddr, dma: paddr, len };
    const dma = this.k.dma.mapSingle(inst.dev, paddr, len, dir);
    if (dmaMappingError(dma)) {
      this.k.mem.freePages(paddr, len);
      return undefined;
    }
    return { paddr, dma, len };
  }

  private freeBuf(inst: VirtioNetInstance, b: Buf, dir: 'to-device' | 'from-device'): void {
    if (this.pooled && b.len === (dir === 'to-device' ? POOL_TX_LEN : RX_BUF_LEN)) {
      inst.pool[dir].push(b);
      return;
    }
    this.releaseBuf(inst, b, dir);
  }

  private releaseBuf(inst: VirtioNetInstance, b: Buf, dir: 'to-device' | 'from-device'): void {
    if (inst.platform) this.k.dma.unmapSingle(inst.dev, b.dma, b.len, dir);
    this.k.mem.freePages(b.paddr, b.len);
  }

  /** add_recvbuf_small: 0, or -ENOMEM / -ENOSPC. */
  private addRxBuf(inst: VirtioNetInstance): number {
    if (inst.rx.numFree === 0) return -ENOSPC;
    const b = this.mapBuf(inst, RX_BUF_LEN, 'from-device');
    if (!b) return -ENOMEM;
    inst.rx.add([], [{ addr: b.dma, len: b.len }], b);
    return 0;
  }

  /**
   * start_xmit for a batch of frames, one kick at the end; then the used
   * TX buffers are reclaimed (free_old_xmit) and received frames collected.
   * Returns the frames queued, or a negative errno before any was.
   */
  xmit(dev: GuestDevice, frames: readonly Uint8Array[]): number {
    const n = this.queueTx(dev, frames);
    const inst = this.instances.get(dev);
    if (!inst) return n;
    inst.tx.kick();
    this.poll(inst);
    return n;
  }

  /**
   * start_xmit with xmit_more set: the frames go on the TX ring without a
   * kick (kickTx sends it), so a guest can fill several devices' rings and
   * then notify them back to back. Returns the frames queued, or a negative
   * errno before any was.
   */
  queueTx(dev: GuestDevice, frames: readonly Uint8Array[]): number {
    const inst = this.instances.get(dev);
    if (!inst) return -ENODEV;
    let queued = 0;
    for (const f of frames) {
      if (inst.tx.numFree === 0) break;
      const b = this.mapBuf(inst, VIRTIO_NET_HDR_LEN + f.length, 'to-device');
      if (!b) return queued || -ENOMEM;
      const hdr = new Uint8Array(VIRTIO_NET_HDR_LEN + f.length);
      hdr.set(f, VIRTIO_NET_HDR_LEN);
      this.k.port.writeBytes(b.paddr, hdr);
      inst.tx.add([{ addr: b.dma, len: b.len }], [], b);
      queued++;
    }
    return queued;
  }

  /** The TX kick after queueTx (virtqueue_notify); the device works while the guest goes on. */
  kickTx(dev: GuestDevice): void {
    this.instances.get(dev)?.tx.kick();
  }

  /** virtnet_poll: reclaim TX, take received frames, refill and kick RX if anything was refilled. */
  poll(inst: VirtioNetInstance): void {
    for (let u = inst.tx.getBuf(); u; u = inst.tx.getBuf()) {
      this.freeBuf(inst, u.token, 'to-device');
      inst.txDone++;
    }
    let refilled = 0;
    for (let u = inst.rx.getBuf(); u; u = inst.rx.getBuf()) {
      const b = u.token;
      // Unmapped (or, pooled, kept mapped: a dma_sync_for_cpu) before the CPU reads it.
      const pooled = this.pooled && b.len === RX_BUF_LEN;
      if (inst.platform && !pooled) this.k.dma.unmapSingle(inst.dev, b.dma, b.len, 'from-device');
      const n = Math.max(0, Math.min(u.len, b.len) - VIRTIO_NET_HDR_LEN);
      const data = new Uint8Array(n);
      this.k.port.readBytes(b.paddr + VIRTIO_NET_HDR_LEN, data);
      if (pooled) inst.pool['from-device'].push(b);
      else this.k.mem.freePages(b.paddr, b.len);
      inst.inbox.push(data);
      if (this.addRxBuf(inst) === 0) refilled++;
    }
    if (refilled) inst.rx.kick();
  }

  /** Received frames so far (taken). */
  receive(dev: GuestDevice): Uint8Array[] {
    const inst = this.instances.get(dev);
    if (!inst) return [];
    this.poll(inst);
    return inst.inbox.splice(0);
  }
}
