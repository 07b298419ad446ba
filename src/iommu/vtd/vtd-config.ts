import { ConfigError } from '../../base/index.js';
import { VTD_SL_SNOOP, VTD_SL_TM } from '../walk/vtd-sl.js';

/**
 * The intel-iommu properties that matter here, as QEMU 7.2 names and
 * decides them (hw/i386/intel_iommu.c vtd_decide_config, vtd_init;
 * hw/i386/x86-iommu.c for intremap, device-iotlb and pt).
 */
export interface VtdProps {
  /** aw-bits: 39 (QEMU 7.2's default) or 48. */
  readonly awBits: number;
  readonly cachingMode: boolean;
  /** device-iotlb: ECAP.DT, context TT=1 and device-TLB invalidations (ATS). */
  readonly deviceIotlb: boolean;
  /** pt: ECAP.PT, context TT=2 (pass-through). */
  readonly pt: boolean;
  /** intremap on/off/auto (auto is on under TCG, as QEMU decides without KVM). */
  readonly intremap: 'on' | 'off' | 'auto';
  readonly eim: 'on' | 'off' | 'auto';
  readonly buggyEim: boolean;
  /** snoop-control: ECAP.SC, the SNP bit becomes legal; vhost/VFIO notifiers are refused. */
  readonly snoopControl: boolean;
  /** dma-drain: CAP.DRD/DWD. */
  readonly dmaDrain: boolean;
  /** dma-translation: off offers no SAGAW and ignores TE. */
  readonly dmaTranslation: boolean;
  readonly scalableMode: boolean;
  readonly pasidMode: boolean;
  /**
   * viommu compat property x-iotlb-hit-no-fault (default off). The VT-d
   * specification (section 6.2.1 / 7.1) has a request whose cached
   * translation lacks the permission fault like any other, recorded in an
   * FRCD; QEMU returns the cached permission from an IOTLB hit without a
   * walk or a fault record, so a write to a page first cached by a read
   * fails silently. On: QEMU's behaviour.
   */
  readonly iotlbHitNoFault: boolean;
  /** Test-only: page-selective IOTLB invalidations are ignored (shows that the DMA oracle catches a stale IOTLB). */
  readonly brokenSkipPsi: boolean;
}

export const VTD_DEFAULT_PROPS: VtdProps = Object.freeze({
  awBits: 39, cachingMode: false, deviceIotlb: false, pt: true, intremap: 'auto', eim: 'auto', buggyEim: false,
  snoopControl: false, dmaDrain: true, dmaTranslation: true, scalableMode: false, pasidMode: false,
  iotlbHitNoFault: false, brokenSkipPsi: false,
});

/** The decided configuration: properties plus the register values derived from them. */
export interface VtdConfig extends VtdProps {
  readonly intremapOn: boolean;
  readonly eimOn: boolean;
  /** CAP_REG and ECAP_REG as (lo, hi) u32 halves. */
  readonly capLo: number;
  readonly capHi: number;
  readonly ecapLo: number;
  readonly ecapHi: number;
  /** Second-level walker flags (walk/vtd-sl.ts): SNP legal with snoop control, TM legal in leaves with device-IOTLB. */
  readonly walkFlags: number;
}

/**
 * CAP_REG (spec 10.4.2; QEMU vtd_init): ND [2:0] = 6, CM bit 7, SAGAW
 * [12:8] (bit 9 39-bit, bit 10 48-bit), MGAW [21:16] = aw - 1, FRO [33:24]
 * = 0x22, SSLPS [37:34] = 2M|1G, PSI bit 39, NFR [47:40] = 0, MAMV [53:48]
 * = 18, DWD/DRD bits 54-55. QEMU 7.2, aw-bits 39: 0x00d2008c22260206.
 */
function capOf(p: VtdProps): [number, number] {
  let lo = 6 | ((p.awBits - 1) << 16) | (0x22 << 24);
  if (p.cachingMode) lo |= 1 << 7;
  if (p.dmaTranslation) lo |= (p.awBits === 48 ? 0x6 : 0x2) << 8;
  let hi = (0x22 >>> 8) | (3 << 2) | (1 << 7) | (18 << 16);
  if (p.dmaDrain) hi |= 3 << 22;
  return [lo >>> 0, hi >>> 0];
}

/**
 * ECAP_REG (spec 10.4.3): QI bit 1, DT bit 2, IR bit 3, EIM bit 4, PT bit 6,
 * SC bit 7, IRO [17:8] = 0xF (IOTLB registers at 0xF0), MHMV [23:20] = 15
 * with IR. QEMU 7.2 default (intremap, pt): 0xf00f4a.
 */
function ecapOf(p: VtdProps, ir: boolean, eim: boolean): [number, number] {
  let lo = (1 << 1) | (0xf << 8);
  if (p.deviceIotlb) lo |= 1 << 2;
  if (ir) lo |= (1 << 3) | (0xf << 20);
  if (ir && eim) lo |= 1 << 4;
  if (p.pt) lo |= 1 << 6;
  if (p.snoopControl) lo |= 1 << 7;
  return [lo >>> 0, 0];
}

/**
 * vtd_decide_config: QEMU's refusals with its texts (there is no KVM, so
 * eim=on is refused as under TCG). Scalable mode is not modelled: viommu
 * refuses it.
 */
export function decideVtdConfig(props: Partial<VtdProps> = {}): VtdConfig {
  const p: VtdProps = { ...VTD_DEFAULT_PROPS, ...props };
  const ir = p.intremap !== 'off';
  if (p.eim === 'on' && !ir) throw new ConfigError('', 'eim=on cannot be selected without intremap=on');
  const eim = p.eim === 'auto' ? p.buggyEim && ir : p.eim === 'on';
  if (eim && !p.buggyEim) throw new ConfigError('', 'eim=on requires accel=kvm,kernel-irqchip=split');
  if (p.awBits !== 39 && p.awBits !== 48) throw new ConfigError('', 'Supported values for aw-bits are: 39, 48');
  if (p.scalableMode && !p.dmaDrain) throw new ConfigError('', 'Need to set dma_drain for scalable mode');
  if (p.pasidMode && !p.scalableMode) throw new ConfigError('', 'Need to set scalable mode for PASID');
  if (p.scalableMode) {
    throw new ConfigError('x-scalable-mode', 'scalable mode is not supported by viommu (legacy root and context tables only); use x-scalable-mode=off');
  }
  const [capLo, capHi] = capOf(p);
  const [ecapLo, ecapHi] = ecapOf(p, ir, eim);
  const walkFlags = (p.snoopControl ? VTD_SL_SNOOP : 0) | (p.deviceIotlb ? VTD_SL_TM : 0);
  return { ...p, intremapOn: ir, eimOn: eim, capLo, capHi, ecapLo, ecapHi, walkFlags };
}

/** "0x00d2008c22260206" */
export function hex64(lo: number, hi: number): string {
  return `0x${(hi >>> 0).toString(16).padStart(8, '0')}${(lo >>> 0).toString(16).padStart(8, '0')}`;
}
