import type { PCIDevice } from '../../../pci/device.js';
import { RTAS_OUT_PARAM_ERROR, RTAS_OUT_SUCCESS } from './rtas.js';

/** DRC index: type shift in bits 31..28, id below (QEMU spapr_drc.c DRC_INDEX_TYPE_SHIFT). */
const DRC_INDEX_TYPE_SHIFT = 28;
const DRC_INDEX_ID_MASK = (1 << DRC_INDEX_TYPE_SHIFT) - 1;
/** SPAPR_DR_CONNECTOR_TYPE_SHIFT_PCI (include/hw/ppc/spapr_drc.h). */
export const SPAPR_DR_CONNECTOR_TYPE_SHIFT_PCI = 4;
/** ibm,drc-types entry of a PCI connector (PAPR+ 13.5.2.4: "28" is a PCI slot). */
export const SPAPR_DRC_PCI_TYPENAME = '28';

// Sensor and indicator values (PAPR+ 13.5.3, QEMU include/hw/ppc/spapr_drc.h).
export const SPAPR_DR_ISOLATION_STATE_ISOLATED = 0;
export const SPAPR_DR_ISOLATION_STATE_UNISOLATED = 1;
export const SPAPR_DR_INDICATOR_INACTIVE = 0;
export const SPAPR_DR_INDICATOR_ACTIVE = 1;
export const SPAPR_DR_INDICATOR_IDENTIFY = 2;
export const SPAPR_DR_INDICATOR_ACTION = 3;
export const SPAPR_DR_ENTITY_SENSE_EMPTY = 0;
export const SPAPR_DR_ENTITY_SENSE_PRESENT = 1;
/** RTAS_OUT_NO_SUCH_INDICATOR: PAPR's -3, as QEMU spells it for DRC calls. */
export const RTAS_OUT_NO_SUCH_INDICATOR = RTAS_OUT_PARAM_ERROR;

/**
 * A physical DRC's state (QEMU SpaprDrcState, PAPR+ 13.4 figure "DR
 * connector states"): POWERON is the empty state and a hot-added device's
 * first state; UNISOLATE after the guest's set-indicator(isolation,
 * unisolate); CONFIGURED once configure-connector has handed over the
 * whole fragment (and the state of a device present at reset).
 */
export type SpaprDrcState = 'poweron' | 'unisolate' | 'configured';

/** One step of configure-connector: a node begins, a property, a node ends. */
export type CcToken =
  | { readonly tag: 'begin'; readonly name: string }
  | { readonly tag: 'prop'; readonly name: string; readonly value: Uint8Array }
  | { readonly tag: 'end' };

/**
 * A PCI dynamic-reconfiguration connector (QEMU TYPE_SPAPR_DRC_PCI, a
 * physical DRC): one per devfn of a PHB's root bus, index 0x40000000 |
 * (PHB index << 16) | (bus << 8) | devfn, named "C" + id. It holds the
 * attached function, the guest-visible state machine of spapr_drc.c
 * (isolate/unisolate, the DR indicator, dr-entity-sense) and the walk of
 * the device-tree fragment that ibm,configure-connector hands out. The
 * release itself (reset, unplug, DEVICE_DELETED) is the PHB's callback.
 */
export class SpaprDrcPci {
  readonly index: number;
  readonly name: string;
  state: SpaprDrcState = 'poweron';
  dev: PCIDevice | undefined;
  unplugRequested = false;
  drIndicator = SPAPR_DR_INDICATOR_INACTIVE;
  /** The fragment (built at the first configure-connector) and the walk's position. */
  private fdt: CcToken[] | undefined;
  private ccsOffset = -1;
  private ccsDepth = -1;

  constructor(readonly id: number, private readonly release: (drc: SpaprDrcPci) => void,
    private readonly populate: (dev: PCIDevice, drc: SpaprDrcPci) => CcToken[]) {
    this.index = ((SPAPR_DR_CONNECTOR_TYPE_SHIFT_PCI << DRC_INDEX_TYPE_SHIFT) | (id & DRC_INDEX_ID_MASK)) >>> 0;
    this.name = `C${id}`;
  }

  /** spapr_drc_attach: the connector must be empty (pre-plug checked it). */
  attach(dev: PCIDevice): void {
    if (this.dev) throw new Error(`DRC ${this.name} already holds ${this.dev.typeName}`);
    this.dev = dev;
  }

  /** An add that failed after attach: the connector is empty again, nothing is released. */
  detach(): void {
    this.dev = undefined;
    this.state = 'poweron';
  }

  /** spapr_drc_unplug_request: an empty-state connector releases at once; otherwise the guest must isolate. */
  unplugRequest(): 'done' | 'requested' {
    this.unplugRequested = true;
    if (this.state !== 'poweron') return 'requested';
    this.doRelease();
    return 'done';
  }

  /** spapr_drc_release: the PHB unplugs the device; the fragment goes with it. */
  private doRelease(): void {
    this.release(this);
    this.unplugRequested = false;
    this.fdt = undefined;
    this.dev = undefined;
  }

  /** drc_isolate_physical. */
  isolate(): number {
    if (this.state === 'poweron') return RTAS_OUT_SUCCESS;
    if (this.state === 'unisolate') return RTAS_OUT_PARAM_ERROR;
    this.state = 'poweron';
    if (this.unplugRequested) this.doRelease();
    return RTAS_OUT_SUCCESS;
  }

  /** drc_unisolate_physical: a connector with nothing in it cannot be unisolated (PAPR+ 13.5.3.5). */
  unisolate(): number {
    if (this.state !== 'poweron') return RTAS_OUT_SUCCESS;
    if (!this.dev) return RTAS_OUT_NO_SUCH_INDICATOR;
    this.state = 'unisolate';
    this.ccsOffset = 0;
    this.ccsDepth = 0;
    return RTAS_OUT_SUCCESS;
  }

  /** physical_entity_sense: PCI slots are live-insertion, so presence is all that counts. */
  entitySense(): number {
    return this.dev ? SPAPR_DR_ENTITY_SENSE_PRESENT : SPAPR_DR_ENTITY_SENSE_EMPTY;
  }

  /** rtas_set_dr_indicator. */
  setDrIndicator(state: number): number {
    if (state !== SPAPR_DR_INDICATOR_INACTIVE && state !== SPAPR_DR_INDICATOR_ACTIVE
      && state !== SPAPR_DR_INDICATOR_IDENTIFY && state !== SPAPR_DR_INDICATOR_ACTION) return RTAS_OUT_PARAM_ERROR;
    this.drIndicator = state;
    return RTAS_OUT_SUCCESS;
  }

  /**
   * spapr_drc_reset: a pending removal completes; a present device is
   * ready as if cold-plugged, an empty connector is back to power-on.
   * Returns whether a removal completed.
   */
  reset(): boolean {
    let completed = false;
    if (this.unplugRequested) {
      this.doRelease();
      completed = true;
    }
    if (this.dev) {
      this.state = 'configured';
      this.ccsOffset = 0;
      this.ccsDepth = 0;
    } else {
      this.state = 'poweron';
      this.ccsOffset = -1;
      this.ccsDepth = -1;
    }
    // drc_physical_reset.
    this.drIndicator = this.dev ? SPAPR_DR_INDICATOR_ACTIVE : SPAPR_DR_INDICATOR_INACTIVE;
    return completed;
  }

  /** Whether configure-connector may run: unisolated, or configured already (it may be repeated). */
  get configurable(): boolean {
    return this.state === 'unisolate' || this.state === 'configured';
  }

  /**
   * The next configure-connector step (rtas_ibm_configure_connector's loop):
   * a node begins, a property, a parent node ends, or undefined when the
   * fragment's top node ended, which makes the connector configured and
   * rewinds the walk so the guest may fetch the fragment again.
   */
  nextToken(): CcToken | undefined {
    if (!this.fdt) {
      this.fdt = this.populate(this.dev!, this);
      this.ccsOffset = 0;
      this.ccsDepth = 0;
    }
    const tok = this.fdt[this.ccsOffset];
    this.ccsOffset++;
    if (!tok) throw new Error(`DRC ${this.name}: device-tree fragment ended without closing its node`);
    if (tok.tag === 'begin') this.ccsDepth++;
    if (tok.tag === 'end' && --this.ccsDepth === 0) {
      this.state = 'configured';
      this.ccsOffset = 0;
      this.ccsDepth = 0;
      return undefined;
    }
    return tok;
  }
}
