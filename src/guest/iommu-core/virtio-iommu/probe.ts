import type { GuestDevice } from '../../device.js';
import { EINVAL, ENODEV } from '../../errno.js';
import type { GuestKernel } from '../../kernel.js';
import { pciEnableDevice } from '../../pci-core/enumerate.js';
import { VIRTIO_F_VERSION_1 } from '../../virtio-core/regs.js';
import { VirtioPciDevice } from '../../virtio-core/virtio-pci.js';
import type { VirtioIommuDriver } from './driver.js';
import {
  VIOMMU_CFG_DOMAIN_END, VIOMMU_CFG_DOMAIN_START, VIOMMU_CFG_INPUT_END, VIOMMU_CFG_INPUT_START, VIOMMU_CFG_PAGE_SIZE_MASK,
  VIOMMU_CFG_PROBE_SIZE, VIOMMU_F_BYPASS_CONFIG, VIOMMU_F_DOMAIN_RANGE, VIOMMU_F_INPUT_RANGE, VIOMMU_F_MAP_UNMAP,
  VIOMMU_F_MMIO, VIOMMU_F_PROBE, VIOMMU_MAP_F_MMIO, VIOMMU_MAP_F_READ, VIOMMU_MAP_F_WRITE,
} from './regs.js';
import { ViommuDev, type Pending, type ViommuConfig } from './viommu-dev.js';

const bit = (b: number): bigint => 1n << BigInt(b);
/** The driver's feature table (Linux virtio_iommu_drv.feature_table) plus VERSION_1. */
const DRIVER_FEATURES = [VIOMMU_F_MAP_UNMAP, VIOMMU_F_INPUT_RANGE, VIOMMU_F_DOMAIN_RANGE, VIOMMU_F_PROBE, VIOMMU_F_MMIO,
  VIOMMU_F_BYPASS_CONFIG, VIRTIO_F_VERSION_1].reduce((a, b) => a | bit(b), 0n);

/** Reads the configuration the negotiated features make valid (virtio_cread_le_feature). */
function readConfig(vp: VirtioPciDevice): ViommuConfig | undefined {
  const c = vp.readConfig(0, 40);
  const v = new DataView(c.buffer);
  const pageSizeMask = v.getBigUint64(VIOMMU_CFG_PAGE_SIZE_MASK, true);
  if (!pageSizeMask) return undefined;
  const inputStart = vp.hasFeature(VIOMMU_F_INPUT_RANGE) ? v.getBigUint64(VIOMMU_CFG_INPUT_START, true) : 0n;
  const inputEnd = vp.hasFeature(VIOMMU_F_INPUT_RANGE) ? v.getBigUint64(VIOMMU_CFG_INPUT_END, true) : (1n << 64n) - 1n;
  const max = BigInt(Number.MAX_SAFE_INTEGER);
  return {
    pageSizeMask,
    // Addresses are numbers here: an input range beyond 2^53 is clamped to it.
    geometry: { apertureStart: Number(inputStart < max ? inputStart : max), apertureEnd: Number(inputEnd < max ? inputEnd : max), forceAperture: true },
    firstDomain: vp.hasFeature(VIOMMU_F_DOMAIN_RANGE) ? v.getUint32(VIOMMU_CFG_DOMAIN_START, true) : 0,
    lastDomain: vp.hasFeature(VIOMMU_F_DOMAIN_RANGE) ? v.getUint32(VIOMMU_CFG_DOMAIN_END, true) : 0xffff_ffff,
    probeSize: vp.hasFeature(VIOMMU_F_PROBE) ? v.getUint32(VIOMMU_CFG_PROBE_SIZE, true) : 0,
    mapFlags: VIOMMU_MAP_F_READ | VIOMMU_MAP_F_WRITE | (vp.hasFeature(VIOMMU_F_MMIO) ? VIOMMU_MAP_F_MMIO : 0),
    bypassConfig: vp.hasFeature(VIOMMU_F_BYPASS_CONFIG),
  };
}

/**
 * viommu_probe on a PCI function: the transport, features (VERSION_1 and
 * MAP_UNMAP required), the configuration, the request and event queues,
 * DRIVER_OK, event buffers, and registration under the firmware node its
 * topology description gave (without one the IOMMU is up but translates
 * nothing the guest knows of).
 */
export function probeViommu(k: GuestKernel, drv: VirtioIommuDriver, dev: GuestDevice, fwnode: string | undefined): number {
  const fn = dev.pci;
  if (!fn) return -ENODEV;
  const src = `virtio_iommu ${fn.name}`;
  const found = VirtioPciDevice.find(k, fn);
  if (!found.ok) {
    k.log.err(src, found.error);
    return -ENODEV;
  }
  const vp = found.value;
  pciEnableDevice(fn);
  fn.setMaster();
  const ret = vp.negotiate(DRIVER_FEATURES);
  if (ret || !vp.hasFeature(VIOMMU_F_MAP_UNMAP)) {
    vp.fail();
    return ret || -ENODEV;
  }
  const cfg = readConfig(vp);
  if (!cfg) {
    vp.fail();
    return -EINVAL;
  }
  const reqq = vp.setupQueue<Pending>(0);
  const evtq = vp.setupQueue<number>(1, 64);
  if (typeof reqq === 'number' || typeof evtq === 'number') {
    vp.fail();
    return typeof reqq === 'number' ? reqq : evtq as number;
  }
  vp.driverOk();
  const d = ViommuDev.create(k, fn.name, vp, reqq, evtq, cfg);
  if (typeof d === 'number') return d;
  const bits = cfg.geometry.apertureEnd >= Number.MAX_SAFE_INTEGER ? 64 : Math.ceil(Math.log2(cfg.geometry.apertureEnd + 1));
  k.log.info(src, `input address: ${bits} bits`);
  k.log.info(src, `page mask: 0x${cfg.pageSizeMask.toString(16)}`);
  if (!fwnode) {
    k.log.warn(src, 'no VIOT, device-tree or configuration-space description names this IOMMU; it translates nothing');
    return 0;
  }
  // Endpoints waiting for this IOMMU are probed now; a failure there is theirs, not this driver's.
  drv.register(d, fwnode);
  return 0;
}
