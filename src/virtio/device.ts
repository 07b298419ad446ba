import type { EventLog } from '../base/event-log.js';
import { VirtioDma } from './dma.js';
import type { VirtqElement } from './element.js';
import {
  featureBit, hasFeature, VIRTIO_CONFIG_S_DRIVER_OK, VIRTIO_CONFIG_S_FEATURES_OK, VIRTIO_CONFIG_S_NEEDS_RESET,
  VIRTIO_F_ACCESS_PLATFORM, VIRTIO_F_VERSION_1, VIRTIO_ISR_CONFIG, VIRTIO_ISR_QUEUE, VIRTIO_NO_VECTOR,
  VIRTIO_RING_F_EVENT_IDX, VIRTIO_RING_F_INDIRECT_DESC,
} from './regs.js';
import { VirtqError, VirtQueue, type VirtqHandler, type VirtqOwner } from './virtqueue.js';

/**
 * What a device needs from its transport (virtio-pci today; QEMU
 * VirtioBusClass): where DMA goes for the negotiated features, and the
 * interrupt for a vector (MSI-X) or through ISR and INTx.
 */
export interface VirtioTransport {
  /** The DMA space: through the platform IOMMU when ACCESS_PLATFORM is negotiated, else system memory. */
  dmaFor(accessPlatform: boolean): VirtioDma;
  /** virtio_notify_vector. */
  notifyVector(vector: number): void;
  readonly log: EventLog;
}

/**
 * A virtio device, independent of its transport and type (QEMU
 * VirtIODevice): status, feature negotiation, queues, the device
 * configuration and the error state. A device type supplies its ID, the
 * features it offers, its configuration bytes and queue handlers; the
 * transport (virtio-pci) exposes all of it to the guest.
 *
 * Feature negotiation (virtio 1.2 section 3.1.1): the driver's features
 * are checked when it sets FEATURES_OK; a refused set leaves FEATURES_OK
 * clear so the driver's re-read sees it. Spec-strict by default: bits not
 * offered, a missing VERSION_1 or a missing offered ACCESS_PLATFORM are
 * refused. With `qemuCompat`, QEMU 7.2's behaviour instead: bits not
 * offered are silently dropped (virtio_set_features_nocheck), checks run
 * only when VERSION_1 was accepted, and only a missing offered
 * ACCESS_PLATFORM is refused (virtio_validate_features).
 */
export abstract class VirtioDevice implements VirtqOwner {
  /** Device ID (virtio 1.2 section 5). */
  abstract readonly deviceId: number;
  /** QEMU's vdev->name ("virtio-iommu"), used in region names and messages. */
  abstract readonly name: string;
  readonly queues: VirtQueue[] = [];
  status = 0;
  isr = 0;
  generation = 0;
  configVector = VIRTIO_NO_VECTOR;
  queueSel = 0;
  /** Features offered (host_features). */
  hostFeatures = 0n;
  /** Features the driver accepted (guest_features). */
  guestFeatures = 0n;
  /** Set by virtioError until the next reset (QEMU vdev->broken). */
  broken = false;
  /** BME cleared by the driver (QEMU virtio_set_disabled). */
  disabled = false;
  eventIdx = false;
  indirectDesc = false;
  qemuCompat = false;
  transport: VirtioTransport | undefined;
  private dmaCache: VirtioDma | undefined;
  private processing = false;
  private readonly pending = new Set<VirtQueue>();

  /** The device configuration as the driver reads it now (get_config). */
  abstract readConfig(): Uint8Array;
  /** The driver wrote these configuration bytes at `offset` (set_config; default: ignored). */
  writeConfig(_offset: number, _data: Uint8Array): void {}
  /** The device-specific part of reset (VirtioDeviceClass.reset). */
  protected deviceReset(): void {}
  /** A chance to refuse the accepted features (validate_features); a message refuses. */
  protected validateFeatures(_features: bigint): string | undefined {
    return undefined;
  }
  /** The driver wrote the status (set_status), after the core took it. */
  protected statusChanged(_status: number): void {}

  /** virtio_add_queue. */
  protected addQueue(size: number, handler?: VirtqHandler): VirtQueue {
    const vq = new VirtQueue(this, this.queues.length, size, handler);
    this.queues.push(vq);
    return vq;
  }

  get log(): EventLog | undefined {
    return this.transport?.log;
  }

  /** Ring and buffer accesses go here (re-chosen when the features change). */
  get dma(): VirtioDma {
    if (!this.dmaCache) {
      if (!this.transport) throw new Error(`${this.name}: no transport`);
      this.dmaCache = this.transport.dmaFor(hasFeature(this.guestFeatures, VIRTIO_F_ACCESS_PLATFORM));
    }
    return this.dmaCache;
  }

  /** The transport's DMA space changed (hot-plug under an IOMMU, reset). */
  dmaChanged(): void {
    this.dmaCache = undefined;
  }

  hasGuestFeature(bit: number): boolean {
    return hasFeature(this.guestFeatures, bit);
  }

  /** virtio_set_features: refused once FEATURES_OK is set. Returns false when bits were not offered. */
  setFeatures(val: bigint): boolean {
    if (this.status & VIRTIO_CONFIG_S_FEATURES_OK) return false;
    const bad = (val & ~this.hostFeatures) !== 0n;
    this.guestFeatures = this.qemuCompat ? val & this.hostFeatures : val;
    this.eventIdx = this.hasGuestFeature(VIRTIO_RING_F_EVENT_IDX);
    this.indirectDesc = this.hasGuestFeature(VIRTIO_RING_F_INDIRECT_DESC);
    this.dmaCache = undefined;
    return !bad;
  }

  /** The reason FEATURES_OK is refused for the accepted features, or undefined. */
  private featureCheck(): string | undefined {
    const f = this.guestFeatures;
    const platform = featureBit(VIRTIO_F_ACCESS_PLATFORM);
    if (this.qemuCompat) {
      if (!hasFeature(f, VIRTIO_F_VERSION_1)) return undefined;
      if (this.hostFeatures & platform && !(f & platform)) return 'ACCESS_PLATFORM offered but not accepted';
      return this.validateFeatures(f);
    }
    if (f & ~this.hostFeatures) return `features 0x${(f & ~this.hostFeatures).toString(16)} were not offered`;
    if (!hasFeature(f, VIRTIO_F_VERSION_1)) return 'VERSION_1 not accepted';
    if (this.hostFeatures & platform && !(f & platform)) return 'ACCESS_PLATFORM offered but not accepted';
    return this.validateFeatures(f);
  }

  /** virtio_set_status: a refused FEATURES_OK leaves the status unchanged. */
  setStatus(val: number): void {
    val &= 0xff;
    if (!(this.status & VIRTIO_CONFIG_S_FEATURES_OK) && val & VIRTIO_CONFIG_S_FEATURES_OK) {
      const why = this.featureCheck();
      if (why) {
        this.log?.warn(this.name, `FEATURES_OK refused: ${why}`);
        return;
      }
    }
    const wasOk = (this.status & VIRTIO_CONFIG_S_DRIVER_OK) !== 0;
    // NEEDS_RESET is the device's to set; only writing 0 (a reset) clears it.
    this.status = val === 0 ? 0 : (val & ~VIRTIO_CONFIG_S_NEEDS_RESET) | (this.status & VIRTIO_CONFIG_S_NEEDS_RESET);
    this.statusChanged(this.status);
    // Buffers made available before DRIVER_OK are consumed now (QEMU consumes them at the notification).
    if (!wasOk && this.status & VIRTIO_CONFIG_S_DRIVER_OK && !this.qemuCompat) for (const vq of this.queues) this.kick(vq);
  }

  /** virtio_reset: status 0, features and queues cleared, the device's own state reset. */
  reset(): void {
    this.deviceReset();
    this.status = 0;
    this.isr = 0;
    this.guestFeatures = 0n;
    this.eventIdx = this.indirectDesc = false;
    this.queueSel = 0;
    this.configVector = VIRTIO_NO_VECTOR;
    this.broken = false;
    this.dmaCache = undefined;
    this.pending.clear();
    for (const vq of this.queues) vq.reset();
  }

  /**
   * virtio_error: the device cannot go on. It sets DEVICE_NEEDS_RESET,
   * signals a configuration change and stops processing until reset.
   */
  virtioError(message: string): void {
    this.log?.err(this.name, message);
    this.status |= VIRTIO_CONFIG_S_NEEDS_RESET;
    this.notifyConfig();
    this.broken = true;
  }

  /** virtio_notify_config: only once the driver is up. */
  notifyConfig(): void {
    if (!(this.status & VIRTIO_CONFIG_S_DRIVER_OK) || this.broken) return;
    this.isr |= VIRTIO_ISR_QUEUE | VIRTIO_ISR_CONFIG;
    this.generation = (this.generation + 1) & 0xff;
    this.transport?.notifyVector(this.configVector);
  }

  /** virtio_notify: interrupt the driver for used buffers when the ring asks for it. */
  notify(vq: VirtQueue): void {
    if (this.broken || this.disabled) return;
    if (!vq.shouldNotify()) return;
    this.isr |= VIRTIO_ISR_QUEUE;
    this.transport?.notifyVector(vq.vector);
  }

  /** Pops the next chain; a malformed ring puts the device in DEVICE_NEEDS_RESET and yields null. */
  pop(vq: VirtQueue): VirtqElement | null {
    if (this.broken || this.disabled) return null;
    const e = vq.pop();
    if (e instanceof VirtqError) {
      this.virtioError(e.message);
      return null;
    }
    return e;
  }

  /** Returns a chain as used with `len` bytes written; false if the device broke. */
  push(vq: VirtQueue, elem: VirtqElement, len: number): boolean {
    const err = vq.push(elem, len);
    if (err) {
      this.virtioError(err.message);
      return false;
    }
    return true;
  }

  /**
   * virtio_queue_notify: runs the queue's handler. A notification that
   * arrives while a handler runs (a buffer pointing at the device's own
   * registers) is queued, never re-entered.
   */
  kick(vq: VirtQueue): void {
    if (!vq.ready || this.broken || this.disabled || !vq.handler) return;
    // virtio 1.2 section 2.1.2: no buffer is consumed before DRIVER_OK (QEMU does not wait).
    if (!this.qemuCompat && !(this.status & VIRTIO_CONFIG_S_DRIVER_OK)) return;
    this.pending.add(vq);
    if (this.processing) return;
    this.processing = true;
    try {
      while (this.pending.size > 0 && !this.broken) {
        const next: VirtQueue = this.pending.values().next().value as VirtQueue;
        this.pending.delete(next);
        if (next.ready && next.handler) next.handler(next);
      }
    } finally {
      this.processing = false;
      this.pending.clear();
    }
  }
}
