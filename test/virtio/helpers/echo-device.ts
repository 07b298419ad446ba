import type { PCIDeviceType } from '../../../src/machine/device-registry.js';
import { defaultDeviceRegistry } from '../../../src/machine/devices/index.js';
import type { DeviceRegistry } from '../../../src/machine/device-registry.js';
import { VirtioDevice } from '../../../src/virtio/device.js';
import { VirtioPciProxy } from '../../../src/virtio/pci/virtio-pci.js';
import {
  featureBit, VIRTIO_F_ACCESS_PLATFORM, VIRTIO_F_VERSION_1, VIRTIO_RING_F_EVENT_IDX, VIRTIO_RING_F_INDIRECT_DESC,
} from '../../../src/virtio/regs.js';
import type { VirtQueue } from '../../../src/virtio/virtqueue.js';

/**
 * A test device on the reusable transport: one queue whose handler copies
 * each chain's readable bytes, each byte plus one, into its writable part;
 * 8 bytes of configuration (a counter of handled chains, a writable word).
 * It offers ACCESS_PLATFORM when asked, as a device behind a vIOMMU does.
 */
export class EchoDevice extends VirtioDevice {
  readonly deviceId = 0x3f;
  readonly name = 'virtio-echo';
  handled = 0;
  word = 0;

  constructor(platform: boolean) {
    super();
    this.addQueue(64, (vq) => this.run(vq));
    this.hostFeatures = featureBit(VIRTIO_F_VERSION_1) | featureBit(VIRTIO_RING_F_EVENT_IDX) | featureBit(VIRTIO_RING_F_INDIRECT_DESC)
      | (platform ? featureBit(VIRTIO_F_ACCESS_PLATFORM) : 0n);
  }

  readConfig(): Uint8Array {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setUint32(0, this.handled, true);
    new DataView(b.buffer).setUint32(4, this.word, true);
    return b;
  }
  override writeConfig(offset: number, data: Uint8Array): void {
    if (offset === 4 && data.length === 4) {
      this.word = new DataView(data.buffer).getUint32(0, true);
      this.notifyConfig();
    }
  }
  protected override deviceReset(): void {
    this.handled = 0;
  }

  private run(vq: VirtQueue): void {
    for (let e = this.pop(vq); e; e = this.pop(vq)) {
      const data = new Uint8Array(Math.min(e.outBytes, 0x10000));
      const got = e.readOut(0, data);
      const n = Math.min(data.length, e.inBytes);
      const out = data.subarray(0, n).map((b) => (b + 1) & 0xff);
      if (got < 0 || e.writeIn(0, out) < 0) {
        vq.detach();
        this.virtioError('virtio: bogus descriptor or out of resources');
        return;
      }
      this.handled++;
      if (!this.push(vq, e, n)) return;
      this.notify(vq);
    }
  }
}

export const echoType: PCIDeviceType = {
  driver: 'virtio-echo-pci',
  desc: 'test device',
  bus: 'pci',
  props: [
    { name: 'platform', type: { kind: 'bool' }, default: false },
    { name: 'ats', type: { kind: 'bool' }, default: false },
    { name: 'vectors', type: { kind: 'uint', bits: 32 }, default: 0n },
  ],
  create: (p) => new VirtioPciProxy(new EchoDevice(p.bool('platform')),
    { typeName: 'virtio-echo-pci', classId: 0x00ff, vectors: p.num('vectors'), ats: p.bool('ats') }),
};

export function echoRegistry(): DeviceRegistry {
  const r = defaultDeviceRegistry();
  r.register(echoType);
  return r;
}
