import type { MmioOps } from '../../memory/mmio-ops.js';
import type { ContainerRegion } from '../../memory/region.js';
import { addCapability } from '../../pci/capability.js';
import type { ConfigSpace } from '../../pci/config-space.js';
import { PCI_CAP_ID_VNDR } from '../../pci/regs.js';
import { VIRTIO_QUEUE_MAX } from '../regs.js';
import type { VirtioPciProxy } from './virtio-pci.js';
import {
  VIRTIO_PCI_CAP_BAR, VIRTIO_PCI_CAP_COMMON_CFG, VIRTIO_PCI_CAP_DEVICE_CFG, VIRTIO_PCI_CAP_ISR_CFG,
  VIRTIO_PCI_CAP_LENGTH, VIRTIO_PCI_CAP_NOTIFY_CFG, VIRTIO_PCI_CAP_OFFSET, VIRTIO_PCI_CAP_SIZE,
  VIRTIO_PCI_COMMON_OFFSET, VIRTIO_PCI_DEVICE_OFFSET, VIRTIO_PCI_ISR_OFFSET, VIRTIO_PCI_MODERN_BAR,
  VIRTIO_PCI_MODERN_BAR_SIZE, VIRTIO_PCI_NOTIFY_CAP_MULT, VIRTIO_PCI_NOTIFY_CAP_SIZE, VIRTIO_PCI_NOTIFY_OFFSET,
  VIRTIO_PCI_QUEUE_MEM_MULT, VIRTIO_PCI_REGION_SIZE,
} from './virtio-pci-regs.js';

interface Region {
  readonly name: string;
  readonly cfgType: number;
  readonly offset: number;
  readonly size: number;
  read(off: number, size: number): number;
  write(off: number, size: number, val: number): void;
}

const ones = (size: number): number => (size >= 4 ? 0xffffffff : (1 << (size * 8)) - 1);

/**
 * The four structures of the modern BAR (QEMU virtio_pci_modern_regions_init
 * and virtio_pci_modern_mem_region_map): common configuration at 0, ISR at
 * 0x1000, device configuration at 0x2000, notifications at 0x3000 (queue n
 * at 4n); each 4 KiB, accessed with 1, 2 or 4 bytes, little-endian.
 */
export class VirtioPciRegions {
  readonly bar: ContainerRegion;
  private readonly list: Region[];

  constructor(private readonly p: VirtioPciProxy) {
    const name = p.vdev.name;
    this.list = [
      { name: `virtio-pci-common-${name}`, cfgType: VIRTIO_PCI_CAP_COMMON_CFG, offset: VIRTIO_PCI_COMMON_OFFSET, size: VIRTIO_PCI_REGION_SIZE,
        read: (off) => p.commonRead(off), write: (off, _s, v) => p.commonWrite(off, v) },
      { name: `virtio-pci-isr-${name}`, cfgType: VIRTIO_PCI_CAP_ISR_CFG, offset: VIRTIO_PCI_ISR_OFFSET, size: VIRTIO_PCI_REGION_SIZE,
        read: () => p.isrRead(), write: () => undefined },
      { name: `virtio-pci-device-${name}`, cfgType: VIRTIO_PCI_CAP_DEVICE_CFG, offset: VIRTIO_PCI_DEVICE_OFFSET, size: VIRTIO_PCI_REGION_SIZE,
        read: (off, size) => this.configRead(off, size), write: (off, size, v) => this.configWrite(off, size, v) },
      { name: `virtio-pci-notify-${name}`, cfgType: VIRTIO_PCI_CAP_NOTIFY_CFG, offset: VIRTIO_PCI_NOTIFY_OFFSET,
        size: VIRTIO_PCI_QUEUE_MEM_MULT * VIRTIO_QUEUE_MAX, read: () => 0, write: (off) => this.notify(off) },
    ];
    const mem = p.ctx.mem;
    this.bar = mem.container('virtio-pci', VIRTIO_PCI_MODERN_BAR_SIZE);
    for (const r of this.list) {
      const ops: MmioOps = {
        read: (off, size) => r.read(off, size) >>> 0,
        write: (off, size, v) => r.write(off, size, v >>> 0),
        impl: { min: 1, max: 4 },
        valid: { min: 1, max: 4 },
      };
      this.bar.addSubregion(mem.mmio(r.name, r.size, ops), r.offset);
    }
  }

  /** virtio_pci_modern_mem_region_map for each structure, in QEMU's order (each goes to the head of the list). */
  addCapabilities(cs: ConfigSpace): void {
    for (const r of this.list) {
      const notify = r.cfgType === VIRTIO_PCI_CAP_NOTIFY_CFG;
      const len = notify ? VIRTIO_PCI_NOTIFY_CAP_SIZE : VIRTIO_PCI_CAP_SIZE;
      const pos = addCapability(cs, PCI_CAP_ID_VNDR, 0, len);
      cs.set8(pos + 2, len);
      cs.set8(pos + 3, r.cfgType);
      cs.set8(pos + VIRTIO_PCI_CAP_BAR, VIRTIO_PCI_MODERN_BAR);
      cs.set32(pos + VIRTIO_PCI_CAP_OFFSET, r.offset);
      cs.set32(pos + VIRTIO_PCI_CAP_LENGTH, r.size);
      if (notify) cs.set32(pos + VIRTIO_PCI_NOTIFY_CAP_MULT, VIRTIO_PCI_QUEUE_MEM_MULT);
    }
  }

  /** virtio_address_space_read: a BAR access through the PCI configuration window. */
  read(off: number, len: number): number {
    const r = this.find(off, len);
    return r ? r.read(off - r.offset, len) & ones(len) : 0;
  }
  write(off: number, len: number, val: number): void {
    const r = this.find(off, len);
    r?.write(off - r.offset, len, val & ones(len));
  }
  private find(off: number, len: number): Region | undefined {
    return this.list.find((r) => off >= r.offset && off + len <= r.offset + r.size);
  }

  /** virtio_config_modern_read*: the device configuration, all-ones past its end. */
  private configRead(off: number, size: number): number {
    const cfg = this.p.vdev.readConfig();
    if (off + size > cfg.length) return ones(size);
    let v = 0;
    for (let i = size - 1; i >= 0; i--) v = (v * 256) + cfg[off + i]!;
    return v >>> 0;
  }
  private configWrite(off: number, size: number, val: number): void {
    const len = this.p.vdev.readConfig().length;
    if (off + size > len) return;
    const data = new Uint8Array(size);
    for (let i = 0; i < size; i++) data[i] = (val >>> (8 * i)) & 0xff;
    this.p.vdev.writeConfig(off, data);
  }

  /** virtio_pci_notify_write: the queue is the address divided by the multiplier; the value is not used. */
  private notify(off: number): void {
    const q = Math.floor(off / VIRTIO_PCI_QUEUE_MEM_MULT);
    const vq = this.p.vdev.queues[q];
    if (vq) this.p.vdev.kick(vq);
  }
}
