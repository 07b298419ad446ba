import type { FdtNode } from '../fw/fdt/fdt.js';
import type { GuestPort } from '../port.js';
import { ParseError } from '../util/result.js';

/**
 * Dynamic Reconfiguration Connectors as the guest reaches them (LoPAPR
 * chapter 13, "Dynamic Reconfiguration Architecture"; RTAS sensors and
 * indicators in section 7.3.5 / 7.3.6, tables 7-10 and 7-11; QEMU
 * hw/ppc/spapr_drc.c; powerpc-utils src/drmgr/rtas_calls.h).
 */

/** Sensor token dr-entity-sense, and its states (DR_ENTITY_SENSE, EMPTY / PRESENT). */
export const DR_ENTITY_SENSE = 9003;
export const DR_ENTITY_EMPTY = 0;
export const DR_ENTITY_PRESENT = 1;
/** Indicator tokens: isolation-state (ISOLATION_STATE) and dr-indicator (DR_INDICATOR). */
export const ISOLATION_STATE = 9001;
export const DR_INDICATOR = 9002;
export const ISOLATE = 0;
export const UNISOLATE = 1;
/** dr-indicator values (LED_OFF, LED_ON, LED_ID, LED_ACTION in drmgr). */
export const LED_OFF = 0;
export const LED_ON = 1;
export const LED_ID = 2;
export const LED_ACTION = 3;
/** RTAS status: success, hardware error, busy, parameter error; 9900-9905 ask to call again after 10^(n-9900) ms. */
export const RTAS_SUCCESS = 0;
export const RTAS_HARDWARE_ERROR = -1;
export const RTAS_BUSY = -2;
export const RTAS_PARAM_ERROR = -3;
/** A DRC of type "28" is a PCI slot (LoPAPR table 13-3: "SLOT" connectors of PCI I/O are named by their bus type). */
export const DRC_TYPE_PCI = '28';

/** The RTAS calls DLPAR needs, by name from /rtas (never hard-coded). */
export interface DrcRtasTokens {
  readonly checkException: number;
  readonly setIndicator: number;
  readonly getSensorState: number;
  readonly configureConnector: number;
}

/** The tokens /rtas offers, or what is missing. */
export function drcTokensOf(rtas: FdtNode): DrcRtasTokens | string {
  const names = ['check-exception', 'set-indicator', 'get-sensor-state', 'ibm,configure-connector'] as const;
  const v = names.map((n) => rtas.u32(n));
  const missing = names.filter((_, i) => v[i] === undefined);
  if (missing.length) return `/rtas has no ${missing.join(', ')}`;
  return { checkException: v[0]!, setIndicator: v[1]!, getSensorState: v[2]!, configureConnector: v[3]! };
}

/** One connector a PHB node lists (ibm,drc-indexes / -names / -types / -power-domains, entry by entry). */
export interface DrcInfo {
  readonly index: number;
  readonly name: string;
  readonly type: string;
  readonly powerDomain: number;
}

/** "count, then NUL-terminated strings" (ibm,drc-names, ibm,drc-types). */
function countedStrings(node: FdtNode, prop: string): string[] | undefined {
  const p = node.prop(prop);
  if (!p) return undefined;
  if (p.length < 4) throw new ParseError(`${node.path}: ${prop} is ${p.length} bytes`);
  const n = new DataView(p.buffer, p.byteOffset, p.byteLength).getUint32(0, false);
  const out: string[] = [];
  let at = 4;
  for (let i = 0; i < n; i++) {
    const end = p.indexOf(0, at);
    if (end < 0) throw new ParseError(`${node.path}: ${prop} ends inside entry ${i} of ${n}`);
    out.push(String.fromCharCode(...p.subarray(at, end)));
    at = end + 1;
  }
  return out;
}

/** "count, then u32 cells" (ibm,drc-indexes, ibm,drc-power-domains). */
function countedCells(node: FdtNode, prop: string): number[] | undefined {
  const c = node.cells(prop);
  if (!c) return undefined;
  const n = c[0] ?? 0;
  if (c.length < n + 1) throw new ParseError(`${node.path}: ${prop} says ${n} entries but has ${c.length - 1}`);
  return c.slice(1, n + 1).map((x) => x >>> 0);
}

/** The connectors a node describes (empty when it has no ibm,drc-indexes); the four lists must agree in length. */
export function drcsOf(node: FdtNode): DrcInfo[] {
  const idx = countedCells(node, 'ibm,drc-indexes');
  if (!idx) return [];
  const names = countedStrings(node, 'ibm,drc-names') ?? [];
  const types = countedStrings(node, 'ibm,drc-types') ?? [];
  const doms = countedCells(node, 'ibm,drc-power-domains') ?? [];
  if (names.length !== idx.length || types.length !== idx.length) {
    throw new ParseError(`${node.path}: ${idx.length} DRC indexes but ${names.length} names and ${types.length} types`);
  }
  return idx.map((index, i) => ({ index, name: names[i]!, type: types[i]!, powerDomain: doms[i] ?? -1 }));
}

/** The RTAS side of the connectors: sensors, indicators and the event queue. */
export class DrcRtas {
  private readonly rtas: (token: number, args: readonly number[], nret: number) => number[];

  constructor(port: GuestPort, readonly tokens: DrcRtasTokens) {
    const call = port.rtas?.bind(port);
    if (!call) throw new ParseError('pseries: the port offers no RTAS');
    this.rtas = call;
  }

  /** get-sensor-state(dr-entity-sense, index) -> status and state. */
  entitySense(index: number): { status: number; state: number } {
    const r = this.rtas(this.tokens.getSensorState, [DR_ENTITY_SENSE, index >>> 0], 2);
    return { status: r[0] ?? RTAS_HARDWARE_ERROR, state: r[1] ?? 0 };
  }

  /** set-indicator(type, index, value) -> status. */
  setIndicator(type: number, index: number, value: number): number {
    return this.rtas(this.tokens.setIndicator, [type, index >>> 0, value], 1)[0] ?? RTAS_HARDWARE_ERROR;
  }

  /**
   * check-exception for hot-plug events (ras_hotplug_interrupt): vector
   * 0x500, the interrupt's number, RTAS_HOTPLUG_EVENTS, not critical, the
   * buffer and its length. 0: a log was written; 1: no more events.
   */
  checkException(vector: number, irq: number, mask: number, buf: number, len: number): number {
    return this.rtas(this.tokens.checkException, [vector, irq, mask, 0, buf >>> 0, len], 1)[0] ?? RTAS_HARDWARE_ERROR;
  }

  /** ibm,configure-connector(work area low 32 bits, high 32 bits) -> one step's status. */
  configureConnector(wa: number): number {
    return this.rtas(this.tokens.configureConnector, [wa >>> 0, Math.floor(wa / 2 ** 32) >>> 0], 1)[0] ?? RTAS_HARDWARE_ERROR;
  }
}
