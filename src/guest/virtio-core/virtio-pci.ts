import { EIO, ENODEV, ENOMEM } from '../errno.js';
import type { GuestKernel } from '../kernel.js';
import type { PciFunction, VirtioPciCap } from '../pci-core/device.js';
import {
  VIRTIO_PCI_CAP_COMMON_CFG, VIRTIO_PCI_CAP_DEVICE_CFG, VIRTIO_PCI_CAP_ISR_CFG, VIRTIO_PCI_CAP_NOTIFY_CFG,
} from '../pci-core/regs.js';
import { fail, ok, type Result } from '../util/result.js';
import {
  VCOMMON_CFGGENERATION, VCOMMON_DF, VCOMMON_DFSELECT, VCOMMON_GF, VCOMMON_GFSELECT, VCOMMON_MSIX, VCOMMON_NUMQ,
  VCOMMON_Q_AVAIL, VCOMMON_Q_DESC, VCOMMON_Q_ENABLE, VCOMMON_Q_MSIX, VCOMMON_Q_NOFF, VCOMMON_Q_SELECT, VCOMMON_Q_SIZE,
  VCOMMON_Q_USED, VCOMMON_STATUS, VIRTIO_F_VERSION_1, VIRTIO_MSI_NO_VECTOR, VIRTIO_STATUS_ACKNOWLEDGE,
  VIRTIO_STATUS_DRIVER, VIRTIO_STATUS_DRIVER_OK, VIRTIO_STATUS_FAILED, VIRTIO_STATUS_FEATURES_OK, VRING_DESC_SIZE,
  VRING_USED_ELEM_SIZE,
} from './regs.js';
import { GuestVirtqueue } from './virtqueue.js';

const TWO32 = 0x1_0000_0000;
/** How long a reset may take to read back 0 (virtual time). */
const RESET_TIMEOUT_NS = 1_000_000;

/** Where a structure is, as the CPU reaches it: a BAR's address plus the capability's offset. */
function capAddress(fn: PciFunction, cap: VirtioPciCap): number | undefined {
  const bar = fn.bars.find((b) => b.index === cap.bar);
  if (!bar || bar.kind === 'io' || bar.cpuAddress === 0 || cap.offset + cap.length > bar.size) return undefined;
  return bar.cpuAddress + cap.offset;
}

/**
 * The guest's virtio-pci modern transport (virtio 1.2 section 4.1; Linux
 * drivers/virtio/virtio_pci_modern*.c): finds the common, notify, ISR and
 * device configuration structures from the vendor capabilities (the first
 * of each type in list order, as preference), resets, negotiates features
 * with the FEATURES_OK re-read, sets up split queues in guest memory and
 * reads the device configuration under config_generation. Queues are
 * polled (the guest does not take interrupts from the device); reading ISR
 * after completions lowers INTx.
 */
export class VirtioPciDevice {
  features = 0n;

  private constructor(private readonly k: GuestKernel, readonly fn: PciFunction, private readonly common: number,
    private readonly notify: number, private readonly notifyMult: number, private readonly isr: number,
    private readonly device: number, readonly deviceCfgLength: number) {}

  /** vp_modern_probe: the structures a driver needs, or why the function cannot be driven. */
  static find(k: GuestKernel, fn: PciFunction): Result<VirtioPciDevice> {
    const first = (type: number) => fn.virtioCaps.find((c) => c.cfgType === type && c.bar < 6);
    const common = first(VIRTIO_PCI_CAP_COMMON_CFG);
    const notify = first(VIRTIO_PCI_CAP_NOTIFY_CFG);
    const isr = first(VIRTIO_PCI_CAP_ISR_CFG);
    const device = first(VIRTIO_PCI_CAP_DEVICE_CFG);
    if (!common || !notify || !isr) return fail('missing common, notify or ISR capability');
    const a = [common, notify, isr, ...(device ? [device] : [])].map((c) => capAddress(fn, c));
    if (a.some((x) => x === undefined)) return fail('a virtio structure lies outside its BAR or the BAR is unassigned');
    const mult = notify.notifyOffMultiplier ?? 0;
    return ok(new VirtioPciDevice(k, fn, a[0]!, a[1]!, mult, a[2]!, device ? a[3]! : 0, device?.length ?? 0));
  }

  private r(off: number, size: number): number {
    return this.k.port.read(this.common + off, size).lo >>> 0;
  }
  private w(off: number, size: number, v: number): void {
    this.k.port.write(this.common + off, size, v >>> 0);
  }

  get status(): number {
    return this.r(VCOMMON_STATUS, 1);
  }
  addStatus(bits: number): void {
    this.w(VCOMMON_STATUS, 1, this.status | bits);
  }
  /** Reset: write 0, wait until 0 reads back. */
  reset(): number {
    this.w(VCOMMON_STATUS, 1, 0);
    return this.k.clock.pollUntil(() => this.status === 0, 1000, RESET_TIMEOUT_NS) ? 0 : -EIO;
  }
  fail(): void {
    this.addStatus(VIRTIO_STATUS_FAILED);
  }
  get numQueues(): number {
    return this.r(VCOMMON_NUMQ, 2);
  }

  deviceFeatures(): bigint {
    this.w(VCOMMON_DFSELECT, 4, 0);
    const lo = BigInt(this.r(VCOMMON_DF, 4));
    this.w(VCOMMON_DFSELECT, 4, 1);
    return (BigInt(this.r(VCOMMON_DF, 4)) << 32n) | lo;
  }

  /**
   * Section 3.1.1 steps 1-4: reset, ACKNOWLEDGE, DRIVER, the accepted
   * subset of `wanted` (VERSION_1 required), FEATURES_OK, and the re-read.
   * Returns 0 with `features` set, or a negative errno.
   */
  negotiate(wanted: bigint): number {
    if (this.reset()) return -EIO;
    this.addStatus(VIRTIO_STATUS_ACKNOWLEDGE);
    this.addStatus(VIRTIO_STATUS_DRIVER);
    const f = this.deviceFeatures() & wanted;
    if (!(f & (1n << BigInt(VIRTIO_F_VERSION_1)))) return -ENODEV;
    this.w(VCOMMON_GFSELECT, 4, 0);
    this.w(VCOMMON_GF, 4, Number(f & 0xffff_ffffn));
    this.w(VCOMMON_GFSELECT, 4, 1);
    this.w(VCOMMON_GF, 4, Number(f >> 32n));
    this.addStatus(VIRTIO_STATUS_FEATURES_OK);
    if (!(this.status & VIRTIO_STATUS_FEATURES_OK)) return -ENODEV;
    this.features = f;
    return 0;
  }

  hasFeature(bit: number): boolean {
    return (this.features & (1n << BigInt(bit))) !== 0n;
  }

  /**
   * Section 4.1.5.1.3: select, size (the device's, or `maxSize` if smaller),
   * rings allocated in guest memory, no MSI-X vector, enable. Without
   * `alloc` the rings are at physical addresses (no ACCESS_PLATFORM); with
   * it (vring_alloc_queue over dma_alloc_coherent) the device is given the
   * bus addresses and the driver keeps writing at the CPU ones. A queue of
   * size 0 does not exist.
   */
  setupQueue<T>(index: number, maxSize = 256, alloc?: (bytes: number) => { paddr: number; dma: number } | undefined): GuestVirtqueue<T> | number {
    this.w(VCOMMON_Q_SELECT, 2, index);
    let size = this.r(VCOMMON_Q_SIZE, 2);
    if (size === 0) return -ENODEV;
    while (size > maxSize) size >>= 1;
    this.w(VCOMMON_Q_SIZE, 2, size);
    const descBytes = VRING_DESC_SIZE * size;
    const availBytes = 6 + 2 * size;
    const usedBytes = 6 + VRING_USED_ELEM_SIZE * size;
    const usedOff = Math.ceil((descBytes + availBytes) / 4) * 4;
    const bytes = usedOff + usedBytes;
    const area = alloc ? alloc(bytes) : (() => {
      const p = this.k.mem.alloc(bytes);
      return p === undefined ? undefined : { paddr: p, dma: p };
    })();
    if (area === undefined) return -ENOMEM;
    const base = area.paddr;
    this.k.port.writeBytes(base, new Uint8Array(bytes));
    const rings = { size, desc: base, avail: base + descBytes, used: base + usedOff };
    const bus = area.dma;
    for (const [off, a] of [[VCOMMON_Q_DESC, bus], [VCOMMON_Q_AVAIL, bus + descBytes], [VCOMMON_Q_USED, bus + usedOff]] as const) {
      this.w(off, 4, a % TWO32);
      this.w(off + 4, 4, Math.floor(a / TWO32));
    }
    this.w(VCOMMON_Q_MSIX, 2, VIRTIO_MSI_NO_VECTOR);
    const noff = this.r(VCOMMON_Q_NOFF, 2);
    this.w(VCOMMON_Q_ENABLE, 2, 1);
    return new GuestVirtqueue<T>(this.k.port, index, rings, this.notify + noff * this.notifyMult, { ...area, bytes });
  }

  /** Step 6: DRIVER_OK, with no configuration-change vector. */
  driverOk(): void {
    this.w(VCOMMON_MSIX, 2, VIRTIO_MSI_NO_VECTOR);
    this.addStatus(VIRTIO_STATUS_DRIVER_OK);
  }

  /** Reads ISR (clearing it and lowering INTx). */
  ackInterrupt(): number {
    return this.k.port.read(this.isr, 1).lo & 0xff;
  }

  get generation(): number {
    return this.r(VCOMMON_CFGGENERATION, 1);
  }

  /** Device configuration bytes [offset, offset + len), re-read until config_generation is stable (section 4.1.4.3.1). */
  readConfig(offset: number, len: number): Uint8Array {
    const out = new Uint8Array(len);
    for (let tries = 0; tries < 8; tries++) {
      const g = this.generation;
      for (let i = 0; i < len;) {
        const n = len - i >= 4 ? 4 : 1;
        const v = this.k.port.read(this.device + offset + i, n).lo >>> 0;
        for (let b = 0; b < n; b++) out[i + b] = (v >>> (8 * b)) & 0xff;
        i += n;
      }
      if (this.generation === g) break;
    }
    return out;
  }

  writeConfig8(offset: number, v: number): void {
    this.k.port.write(this.device + offset, 1, v & 0xff);
  }
}
