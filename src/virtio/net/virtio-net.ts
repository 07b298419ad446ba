import { VirtioDevice } from '../device.js';
import { featureBit, VIRTIO_CONFIG_S_DRIVER_OK, VIRTIO_F_ACCESS_PLATFORM, VIRTIO_F_VERSION_1, VIRTIO_ISR_QUEUE } from '../regs.js';
import type { VirtQueue } from '../virtqueue.js';
import { NetPeer } from './peer.js';
import {
  VIRTIO_ID_NET, VIRTIO_NET_CFG_MAC, VIRTIO_NET_CFG_MAX_VQ_PAIRS, VIRTIO_NET_CFG_STATUS, VIRTIO_NET_F_MAC,
  VIRTIO_NET_F_STATUS, VIRTIO_NET_HDR_NUM_BUFFERS, VIRTIO_NET_HDR_SIZE, VIRTIO_NET_QUEUE_SIZE, VIRTIO_NET_S_LINK_UP,
  WIRE_MAX_FRAME,
} from './regs.js';

/** A backend that processes the rings instead of the device model (vhost): QEMU's vhost_net start/stop and notifications. */
export interface NetBackend {
  /** DRIVER_OK: take the rings over (vhost_net_start). */
  start(): void;
  /** Reset, DRIVER_OK cleared, unplug: hand the rings back (vhost_net_stop). */
  stop(): void;
  /** The driver notified queue `index` (the ioeventfd). */
  kick(index: number): void;
  /** The guest toggled ATS Enable (virtio_net's toggle_device_iotlb). */
  setDeviceIotlb(enabled: boolean): void;
  /** The device goes away: end the backend's thread. */
  close(): void;
  /** Completes work the backend has in flight on its thread (a kick does not wait for it). */
  quiesce?(): void;
}

export interface VirtioNetOptions {
  readonly mac: Uint8Array;
  /** iommu_platform=on: offer VIRTIO_F_ACCESS_PLATFORM. */
  readonly iommuPlatform: boolean;
}

/**
 * virtio-net (virtio 1.2 section 5.1; QEMU hw/net/virtio-net.c), one
 * queue pair, no control queue, no offloads: receiveq1 (0) and
 * transmitq1 (1), configuration mac / status (link up) /
 * max_virtqueue_pairs. Its peer is a synthetic NetPeer on a virtual wire.
 * Without a backend (vhost=off) the model moves packets itself: TX chains
 * lose their 12-byte virtio_net_hdr and go to the peer; frames from the
 * peer fill RX chains behind a header with num_buffers 1. With a backend
 * (vhost=on) the backend owns the rings between DRIVER_OK and reset.
 */
export class VirtioNet extends VirtioDevice {
  readonly deviceId = VIRTIO_ID_NET;
  readonly name = 'virtio-net';
  readonly peer = new NetPeer();
  readonly rx: VirtQueue;
  readonly tx: VirtQueue;
  backend: NetBackend | undefined;
  /** vdev->device_iotlb_enabled: the guest's ATS Enable. */
  deviceIotlbEnabled = false;
  private readonly hdr = new Uint8Array(VIRTIO_NET_HDR_SIZE);

  constructor(readonly opts: VirtioNetOptions) {
    super();
    this.hostFeatures = featureBit(VIRTIO_F_VERSION_1) | featureBit(VIRTIO_NET_F_MAC) | featureBit(VIRTIO_NET_F_STATUS)
      | (opts.iommuPlatform ? featureBit(VIRTIO_F_ACCESS_PLATFORM) : 0n);
    this.rx = this.addQueue(VIRTIO_NET_QUEUE_SIZE, (vq) => this.handle(vq));
    this.tx = this.addQueue(VIRTIO_NET_QUEUE_SIZE, (vq) => this.handle(vq));
    this.hdr[VIRTIO_NET_HDR_NUM_BUFFERS] = 1;
  }

  readConfig(): Uint8Array {
    const c = new Uint8Array(10);
    c.set(this.opts.mac.subarray(0, 6), VIRTIO_NET_CFG_MAC);
    c[VIRTIO_NET_CFG_STATUS] = VIRTIO_NET_S_LINK_UP;
    c[VIRTIO_NET_CFG_MAX_VQ_PAIRS] = 1;
    return c;
  }

  protected override statusChanged(status: number): void {
    if (!this.backend) return;
    if (status & VIRTIO_CONFIG_S_DRIVER_OK) this.backend.start();
    else this.backend.stop();
  }

  protected override deviceReset(): void {
    this.backend?.stop();
    this.peer.flush();
  }

  /** The guest's ATS Enable changed (virtio_pci_ats_ctrl_trigger). */
  atsChanged(enabled: boolean): void {
    this.deviceIotlbEnabled = enabled;
    this.backend?.setDeviceIotlb(enabled);
  }

  /** The backend's interrupt for a queue (its call eventfd / irqfd). */
  callVq(index: number): void {
    const vq = this.queues[index];
    if (!vq || this.broken || this.disabled) return;
    this.isr |= VIRTIO_ISR_QUEUE;
    this.transport?.notifyVector(vq.vector);
  }

  private handle(vq: VirtQueue): void {
    if (this.backend) {
      this.backend.kick(vq.index);
      return;
    }
    if (vq === this.tx) this.handleTx();
    this.flushRx();
  }

  /** virtio_net_flush_tx: every available TX chain to the peer. */
  private handleTx(): void {
    let done = 0;
    for (let e = this.pop(this.tx); e; e = this.pop(this.tx)) {
      const frame = new Uint8Array(Math.max(0, Math.min(e.outBytes - VIRTIO_NET_HDR_SIZE, WIRE_MAX_FRAME)));
      if (e.outBytes < VIRTIO_NET_HDR_SIZE || e.readOut(VIRTIO_NET_HDR_SIZE, frame) < 0) {
        this.virtioError('virtio-net header not in first element');
        return;
      }
      if (!this.push(this.tx, e, 0)) return;
      this.peer.deliver(frame);
      done++;
    }
    if (done) this.notify(this.tx);
  }

  /** virtio_net_receive: frames waiting at the peer into RX chains while there are some. */
  flushRx(): void {
    let done = 0;
    while (this.peer.outbox.length > 0) {
      const e = this.pop(this.rx);
      if (!e) break;
      const frame = this.peer.outbox[0]!;
      if (e.writeIn(0, this.hdr) < 0 || e.writeIn(VIRTIO_NET_HDR_SIZE, frame) < 0) {
        this.virtioError('virtio-net unexpected RX buffer');
        return;
      }
      const len = Math.min(e.inBytes, VIRTIO_NET_HDR_SIZE + frame.length);
      if (!this.push(this.rx, e, len)) return;
      this.peer.outbox.shift();
      done++;
    }
    if (done) this.notify(this.rx);
  }
}
