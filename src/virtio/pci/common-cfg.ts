import type { VirtioDevice } from '../device.js';
import {
  isPowerOfTwo, VIRTIO_CONFIG_S_DRIVER_OK, VIRTIO_F_RING_RESET, VIRTIO_NO_VECTOR, VIRTIO_QUEUE_MAX, VIRTQUEUE_MAX_SIZE,
} from '../regs.js';
import type { VirtQueue } from '../virtqueue.js';
import {
  VIRTIO_PCI_COMMON_CFGGENERATION, VIRTIO_PCI_COMMON_DF, VIRTIO_PCI_COMMON_DFSELECT, VIRTIO_PCI_COMMON_GF,
  VIRTIO_PCI_COMMON_GFSELECT, VIRTIO_PCI_COMMON_MSIX, VIRTIO_PCI_COMMON_NUMQ, VIRTIO_PCI_COMMON_Q_AVAILHI,
  VIRTIO_PCI_COMMON_Q_AVAILLO, VIRTIO_PCI_COMMON_Q_DESCHI, VIRTIO_PCI_COMMON_Q_DESCLO, VIRTIO_PCI_COMMON_Q_ENABLE,
  VIRTIO_PCI_COMMON_Q_MSIX, VIRTIO_PCI_COMMON_Q_NOFF, VIRTIO_PCI_COMMON_Q_RESET, VIRTIO_PCI_COMMON_Q_SELECT,
  VIRTIO_PCI_COMMON_Q_SIZE, VIRTIO_PCI_COMMON_Q_USEDHI, VIRTIO_PCI_COMMON_Q_USEDLO, VIRTIO_PCI_COMMON_STATUS,
} from './virtio-pci-regs.js';

const TWO32 = 0x1_0000_0000;

/** What the driver programmed for one queue before enabling it (QEMU VirtIOPCIQueue). */
export class PciQueueRegs {
  num = 0;
  desc = [0, 0];
  avail = [0, 0];
  used = [0, 0];
  enabled = 0;
  reset = 0;
  /** The vector of a queue index the device does not have (QEMU keeps it anyway). */
  vector = VIRTIO_NO_VECTOR;
}

/** The transport state the common configuration reads and writes. */
export interface CommonCfgHost {
  readonly vdev: VirtioDevice;
  dfselect: number;
  gfselect: number;
  readonly guestFeatureWords: [number, number];
  queueRegs(sel: number): PciQueueRegs;
  /** msix_vector_use: whether the function has this MSI-X vector. */
  vectorValid(vector: number): boolean;
  /** virtio_pci_reset: the device reset plus the transport's queue registers. */
  resetTransport(): void;
}

function addr(regs: readonly number[]): number {
  return (regs[1]! >>> 0) * TWO32 + (regs[0]! >>> 0);
}

/** virtio_pci_common_read: the field at `offset` (the access size does not matter; other offsets read 0). */
export function commonRead(h: CommonCfgHost, offset: number): number {
  const v = h.vdev;
  const sel = v.queueSel;
  const vq: VirtQueue | undefined = v.queues[sel];
  switch (offset) {
    case VIRTIO_PCI_COMMON_DFSELECT: return h.dfselect;
    case VIRTIO_PCI_COMMON_DF:
      return h.dfselect <= 1 ? Number((v.hostFeatures >> BigInt(32 * h.dfselect)) & 0xffff_ffffn) : 0;
    case VIRTIO_PCI_COMMON_GFSELECT: return h.gfselect;
    case VIRTIO_PCI_COMMON_GF: return h.gfselect <= 1 ? h.guestFeatureWords[h.gfselect]! : 0;
    case VIRTIO_PCI_COMMON_MSIX: return v.configVector;
    case VIRTIO_PCI_COMMON_NUMQ: {
      let n = 0;
      v.queues.forEach((q, i) => {
        if (q.size) n = i + 1;
      });
      return n;
    }
    case VIRTIO_PCI_COMMON_STATUS: return v.status;
    case VIRTIO_PCI_COMMON_CFGGENERATION: return v.generation;
    case VIRTIO_PCI_COMMON_Q_SELECT: return sel;
    case VIRTIO_PCI_COMMON_Q_SIZE: return vq?.size ?? 0;
    case VIRTIO_PCI_COMMON_Q_MSIX: return vq ? vq.vector : h.queueRegs(sel).vector;
    case VIRTIO_PCI_COMMON_Q_ENABLE: return h.queueRegs(sel).enabled;
    // The notify offset is the queue index (multiplied by notify_off_multiplier).
    case VIRTIO_PCI_COMMON_Q_NOFF: return sel;
    case VIRTIO_PCI_COMMON_Q_DESCLO: return h.queueRegs(sel).desc[0]!;
    case VIRTIO_PCI_COMMON_Q_DESCHI: return h.queueRegs(sel).desc[1]!;
    case VIRTIO_PCI_COMMON_Q_AVAILLO: return h.queueRegs(sel).avail[0]!;
    case VIRTIO_PCI_COMMON_Q_AVAILHI: return h.queueRegs(sel).avail[1]!;
    case VIRTIO_PCI_COMMON_Q_USEDLO: return h.queueRegs(sel).used[0]!;
    case VIRTIO_PCI_COMMON_Q_USEDHI: return h.queueRegs(sel).used[1]!;
    case VIRTIO_PCI_COMMON_Q_RESET: return h.queueRegs(sel).reset;
    default: return 0;
  }
}

/**
 * virtio_queue_set_num: a queue cannot be made to exist or vanish. Strict:
 * a power of two no larger than the device's maximum (virtio 1.2 section
 * 4.1.4.3.2). QEMU accepts any size up to 1024.
 */
function setNum(v: VirtioDevice, vq: VirtQueue | undefined, num: number): void {
  if (!vq || !!num !== !!vq.size) return;
  if (v.qemuCompat ? num > VIRTQUEUE_MAX_SIZE : num > vq.defaultSize || !isPowerOfTwo(num)) return;
  vq.size = num;
}

/** virtio_pci_common_write. */
export function commonWrite(h: CommonCfgHost, offset: number, val: number): void {
  const v = h.vdev;
  const sel = v.queueSel;
  const vq: VirtQueue | undefined = v.queues[sel];
  switch (offset) {
    case VIRTIO_PCI_COMMON_DFSELECT: h.dfselect = val >>> 0; break;
    case VIRTIO_PCI_COMMON_GFSELECT: h.gfselect = val >>> 0; break;
    case VIRTIO_PCI_COMMON_GF:
      if (h.gfselect <= 1) {
        h.guestFeatureWords[h.gfselect] = val >>> 0;
        v.setFeatures((BigInt(h.guestFeatureWords[1]) << 32n) | BigInt(h.guestFeatureWords[0]));
      }
      break;
    case VIRTIO_PCI_COMMON_MSIX:
      // Make it possible for the driver to see that the vector was refused.
      v.configVector = h.vectorValid(val) ? val & 0xffff : VIRTIO_NO_VECTOR;
      break;
    case VIRTIO_PCI_COMMON_STATUS:
      v.setStatus(val & 0xff);
      if (v.status === 0) h.resetTransport();
      break;
    case VIRTIO_PCI_COMMON_Q_SELECT:
      if (val < VIRTIO_QUEUE_MAX) v.queueSel = val;
      break;
    case VIRTIO_PCI_COMMON_Q_SIZE:
      h.queueRegs(sel).num = val;
      setNum(v, vq, val);
      break;
    case VIRTIO_PCI_COMMON_Q_MSIX: {
      const vector = h.vectorValid(val) ? val & 0xffff : VIRTIO_NO_VECTOR;
      if (vq) vq.vector = vector;
      else h.queueRegs(sel).vector = vector;
      break;
    }
    case VIRTIO_PCI_COMMON_Q_ENABLE:
      if (val === 1) {
        const r = h.queueRegs(sel);
        setNum(v, vq, r.num);
        vq?.setRings(addr(r.desc), addr(r.avail), addr(r.used));
        r.enabled = 1;
        if (vq && !v.qemuCompat && v.status & VIRTIO_CONFIG_S_DRIVER_OK) v.kick(vq);
      } else {
        v.virtioError(`wrong value for queue_enable ${val.toString(16)}`);
      }
      break;
    case VIRTIO_PCI_COMMON_Q_DESCLO: h.queueRegs(sel).desc[0] = val >>> 0; break;
    case VIRTIO_PCI_COMMON_Q_DESCHI: h.queueRegs(sel).desc[1] = val >>> 0; break;
    case VIRTIO_PCI_COMMON_Q_AVAILLO: h.queueRegs(sel).avail[0] = val >>> 0; break;
    case VIRTIO_PCI_COMMON_Q_AVAILHI: h.queueRegs(sel).avail[1] = val >>> 0; break;
    case VIRTIO_PCI_COMMON_Q_USEDLO: h.queueRegs(sel).used[0] = val >>> 0; break;
    case VIRTIO_PCI_COMMON_Q_USEDHI: h.queueRegs(sel).used[1] = val >>> 0; break;
    case VIRTIO_PCI_COMMON_Q_RESET:
      // virtio 1.2 section 2.6.1: per-queue reset with VIRTIO_F_RING_RESET (QEMU does not check the feature).
      if (val === 1 && (v.qemuCompat || v.hasGuestFeature(VIRTIO_F_RING_RESET))) {
        const r = h.queueRegs(sel);
        vq?.reset();
        r.reset = 0;
        r.enabled = 0;
      }
      break;
    default:
      break;
  }
}
