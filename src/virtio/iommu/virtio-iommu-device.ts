import { configBytes, writeConfig } from '../../iommu/virtio-iommu/config.js';
import type { VirtioIommuOptions } from '../../iommu/virtio-iommu/options.js';
import {
  VIRTIO_ID_IOMMU, VIRTIO_IOMMU_F_BYPASS_CONFIG, VIRTIO_IOMMU_F_DOMAIN_RANGE, VIRTIO_IOMMU_F_INPUT_RANGE,
  VIRTIO_IOMMU_F_MAP_UNMAP, VIRTIO_IOMMU_F_MMIO, VIRTIO_IOMMU_F_PROBE, VIRTIO_IOMMU_F_X_TOPOLOGY,
  VIRTIO_IOMMU_FAULT_SIZE,
} from '../../iommu/virtio-iommu/regs.js';
import { VirtioIommu, type ViommuPlatform } from '../../iommu/virtio-iommu/virtio-iommu.js';
import { VirtioDevice } from '../device.js';
import {
  featureBit, VIRTIO_CONFIG_S_FEATURES_OK, VIRTIO_F_RING_RESET, VIRTIO_F_VERSION_1, VIRTIO_RING_F_EVENT_IDX,
  VIRTIO_RING_F_INDIRECT_DESC,
} from '../regs.js';
import type { VirtQueue } from '../virtqueue.js';

/** QEMU's VIOMMU_DEFAULT_QUEUE_SIZE. */
const VIOMMU_QUEUE_SIZE = 256;
/** Requests are at most 72 device-readable bytes (PROBE); more is never read. */
const MAX_REQUEST = 128;

/** The platform part the PCI function supplies, minus what the virtio device itself provides (fault reports). */
export type ViommuPlatformBase = Omit<ViommuPlatform, 'reportFault'>;

/**
 * The virtio device of virtio-iommu (QEMU VirtIOIOMMU as a VirtIODevice):
 * device ID 23, queue 0 requests and queue 1 events (256 entries each), the
 * features QEMU 7.2 offers (INPUT_RANGE, DOMAIN_RANGE, MAP_UNMAP, PROBE,
 * MMIO, BYPASS_CONFIG; INDIRECT_DESC, EVENT_IDX, VERSION_1, RING_RESET),
 * plus VIRTIO_IOMMU_F_X_TOPOLOGY when the topology is described in the
 * configuration space. The device logic is src/iommu/virtio-iommu.
 */
export class VirtioIommuDevice extends VirtioDevice {
  readonly deviceId = VIRTIO_ID_IOMMU;
  readonly name = 'virtio-iommu';
  readonly core: VirtioIommu;
  readonly requestq: VirtQueue;
  readonly eventq: VirtQueue;
  private warnedNoBuffer = false;

  constructor(opts: VirtioIommuOptions, platform: ViommuPlatformBase) {
    super();
    this.qemuCompat = opts.qemuCompat;
    const self = this;
    this.core = new VirtioIommu(opts, {
      endpointRegion: (id) => platform.endpointRegion(id),
      regions: () => platform.regions(),
      get systemAs() {
        return platform.systemAs;
      },
      get log() {
        return platform.log;
      },
      get tracer() {
        return platform.tracer;
      },
      reportFault: (r, f, e, a) => self.reportFault(r, f, e, a),
    });
    this.requestq = this.addQueue(VIOMMU_QUEUE_SIZE, (vq) => this.handleRequests(vq));
    this.eventq = this.addQueue(VIOMMU_QUEUE_SIZE);
    let f = 0n;
    for (const b of [VIRTIO_IOMMU_F_INPUT_RANGE, VIRTIO_IOMMU_F_DOMAIN_RANGE, VIRTIO_IOMMU_F_MAP_UNMAP, VIRTIO_IOMMU_F_PROBE,
      VIRTIO_IOMMU_F_MMIO, VIRTIO_IOMMU_F_BYPASS_CONFIG, VIRTIO_RING_F_INDIRECT_DESC, VIRTIO_RING_F_EVENT_IDX,
      VIRTIO_F_VERSION_1, VIRTIO_F_RING_RESET]) f |= featureBit(b);
    if (opts.topology.length) f |= featureBit(VIRTIO_IOMMU_F_X_TOPOLOGY);
    this.hostFeatures = f;
  }

  readConfig(): Uint8Array {
    return configBytes(this.core);
  }

  override writeConfig(offset: number, data: Uint8Array): void {
    const err = writeConfig(this.core, offset, data);
    if (err) this.virtioError(err);
  }

  protected override statusChanged(status: number): void {
    this.core.negotiated = status & VIRTIO_CONFIG_S_FEATURES_OK ? this.guestFeatures : 0n;
  }

  protected override deviceReset(): void {
    this.core.deviceReset();
    this.warnedNoBuffer = false;
  }

  /** virtio_iommu_handle_command: every available request, each answered in the used ring. */
  private handleRequests(vq: VirtQueue): void {
    for (;;) {
      const elem = this.pop(vq);
      if (!elem) return;
      const out = new Uint8Array(Math.min(elem.outBytes, MAX_REQUEST));
      if (elem.readOut(0, out) < 0) {
        vq.detach();
        this.virtioError('virtio: bogus descriptor or out of resources');
        return;
      }
      const r = this.core.handleRequest(out, elem.outBytes, elem.inBytes);
      if (r.kind === 'error') {
        vq.detach();
        this.virtioError(r.message);
        return;
      }
      let used = 0;
      if (r.kind === 'reply') {
        if (elem.writeIn(r.offset, r.data) < 0) {
          vq.detach();
          this.virtioError('virtio: bogus descriptor or out of resources');
          return;
        }
        used = r.offset + r.data.length;
      }
      if (!this.push(vq, elem, used)) return;
      this.notify(vq);
    }
  }

  /**
   * virtio_iommu_report_fault: a 24-byte report in the next event buffer.
   * Without a buffer the event is dropped (logged once); a buffer too
   * small for it is a driver error (DEVICE_NEEDS_RESET), as in QEMU.
   */
  private reportFault(reason: number, flags: number, endpoint: number, address: number): void {
    const elem = this.pop(this.eventq);
    if (!elem) {
      this.core.counters.dropped++;
      if (!this.warnedNoBuffer) this.log?.warn(this.name, 'no buffer available in event queue to report event');
      this.warnedNoBuffer = true;
      return;
    }
    if (elem.inBytes < VIRTIO_IOMMU_FAULT_SIZE) {
      this.eventq.detach();
      this.virtioError('error buffer of wrong size');
      return;
    }
    const b = new Uint8Array(VIRTIO_IOMMU_FAULT_SIZE);
    const v = new DataView(b.buffer);
    v.setUint8(0, reason);
    v.setUint32(4, flags, true);
    v.setUint32(8, endpoint, true);
    v.setUint32(16, address % 0x1_0000_0000, true);
    v.setUint32(20, Math.floor(address / 0x1_0000_0000), true);
    if (elem.writeIn(0, b) < 0) {
      this.eventq.detach();
      this.virtioError('virtio: bogus descriptor or out of resources');
      return;
    }
    if (this.push(this.eventq, elem, VIRTIO_IOMMU_FAULT_SIZE)) this.notify(this.eventq);
  }
}
