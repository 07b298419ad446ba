import type { SpaprDrcPci } from './drc.js';
import { RTAS_OUT_NO_SUCH_INDICATOR } from './drc.js';
import { RTAS_OUT_PARAM_ERROR, RTAS_OUT_SUCCESS, RTAS_TOKEN_BASE, type RtasCall, type RtasMemory, type RtasTable } from './rtas.js';

export const RTAS_SET_INDICATOR = RTAS_TOKEN_BASE + 0x1a;
export const RTAS_GET_SENSOR_STATE = RTAS_TOKEN_BASE + 0x1d;
export const RTAS_IBM_CONFIGURE_CONNECTOR = RTAS_TOKEN_BASE + 0x1e;
/** RTAS_OUT_NOT_SUPPORTED: QEMU's -3 for a sensor or indicator type it does not implement. */
const RTAS_OUT_NOT_SUPPORTED = -3;

// Sensor / indicator types (PAPR+ table "Defined Indicators" / "Defined Sensors").
export const RTAS_SENSOR_TYPE_ISOLATION_STATE = 9001;
export const RTAS_SENSOR_TYPE_DR = 9002;
export const RTAS_SENSOR_TYPE_ALLOCATION_STATE = 9003;
export const RTAS_SENSOR_TYPE_ENTITY_SENSE = RTAS_SENSOR_TYPE_ALLOCATION_STATE;

// ibm,configure-connector responses (PAPR+ 13.5.3.5, QEMU SpaprDRCCResponse).
export const SPAPR_DR_CC_RESPONSE_SUCCESS = 0;
export const SPAPR_DR_CC_RESPONSE_NEXT_SIB = 1;
export const SPAPR_DR_CC_RESPONSE_NEXT_CHILD = 2;
export const SPAPR_DR_CC_RESPONSE_NEXT_PROPERTY = 3;
export const SPAPR_DR_CC_RESPONSE_PREV_PARENT = 4;
export const SPAPR_DR_CC_RESPONSE_ERROR = -1;
export const SPAPR_DR_CC_RESPONSE_NOT_CONFIGURABLE = -9003;

// The work area: word indexes and the data offset (PAPR+ 13.5.3.5, QEMU CC_IDX_* / CC_VAL_DATA_OFFSET).
const CC_IDX_NODE_NAME_OFFSET = 2;
const CC_IDX_PROP_NAME_OFFSET = 2;
const CC_IDX_PROP_LEN = 3;
const CC_IDX_PROP_DATA_OFFSET = 4;
const CC_VAL_DATA_OFFSET = (CC_IDX_PROP_DATA_OFFSET + 1) * 4;
const CC_WA_LEN = 4096;

/**
 * The DRC RTAS calls (QEMU hw/ppc/spapr_drc.c): set-indicator (isolation
 * state, DR indicator, allocation state), get-sensor-state
 * (dr-entity-sense) and ibm,configure-connector, which hands the guest the
 * device-tree fragment of the connector's device one step per call through
 * a work area in guest memory.
 */
export function registerDrcRtas(rtas: RtasTable, byIndex: (index: number) => SpaprDrcPci | undefined, mem: RtasMemory): void {
  rtas.register(RTAS_SET_INDICATOR, 'set-indicator', (c) => {
    if (c.nargs !== 3 || c.nret !== 1) return c.ret(0, RTAS_OUT_PARAM_ERROR);
    const drc = byIndex(c.arg(1));
    const state = c.arg(2);
    switch (c.arg(0)) {
      case RTAS_SENSOR_TYPE_ISOLATION_STATE:
        if (!drc) return c.ret(0, RTAS_OUT_NO_SUCH_INDICATOR);
        if (state === 0) return c.ret(0, drc.isolate());
        if (state === 1) return c.ret(0, drc.unisolate());
        return c.ret(0, RTAS_OUT_PARAM_ERROR);
      case RTAS_SENSOR_TYPE_DR:
        return c.ret(0, drc ? drc.setDrIndicator(state) : RTAS_OUT_NO_SUCH_INDICATOR);
      case RTAS_SENSOR_TYPE_ALLOCATION_STATE:
        // Only logical DRCs (CPU, LMB, PHB) have an allocation state.
        return c.ret(0, RTAS_OUT_NO_SUCH_INDICATOR);
      default:
        return c.ret(0, RTAS_OUT_NOT_SUPPORTED);
    }
  });
  rtas.register(RTAS_GET_SENSOR_STATE, 'get-sensor-state', (c) => {
    let ret = RTAS_OUT_SUCCESS;
    let state = 0;
    if (c.nargs !== 2 || c.nret !== 2) ret = RTAS_OUT_PARAM_ERROR;
    else if (c.arg(0) !== RTAS_SENSOR_TYPE_ENTITY_SENSE) ret = RTAS_OUT_NOT_SUPPORTED;
    else {
      const drc = byIndex(c.arg(1));
      if (!drc) ret = RTAS_OUT_PARAM_ERROR;
      else state = drc.entitySense();
    }
    c.ret(0, ret);
    c.ret(1, state);
  });
  rtas.register(RTAS_IBM_CONFIGURE_CONNECTOR, 'ibm,configure-connector', (c) => configureConnector(c, byIndex, mem));
}

/** rtas_ibm_configure_connector. */
function configureConnector(c: RtasCall, byIndex: (index: number) => SpaprDrcPci | undefined, mem: RtasMemory): void {
  if (c.nargs !== 2 || c.nret !== 1) return c.ret(0, RTAS_OUT_PARAM_ERROR);
  const wa = (BigInt(c.arg(1)) << 32n) | BigInt(c.arg(0));
  const drc = byIndex(mem.readU32(wa));
  if (!drc) return c.ret(0, RTAS_OUT_PARAM_ERROR);
  if (!drc.configurable || !drc.dev) return c.ret(0, SPAPR_DR_CC_RESPONSE_NOT_CONFIGURABLE);
  const st = (word: number, v: number) => mem.writeU32(wa + BigInt(4 * word), v);
  const put = (offset: number, data: Uint8Array) => mem.writeBytes(wa + BigInt(offset), data.subarray(0, Math.max(0, CC_WA_LEN - offset)));
  const tok = drc.nextToken();
  if (!tok) return c.ret(0, SPAPR_DR_CC_RESPONSE_SUCCESS);
  const enc = new TextEncoder();
  if (tok.tag === 'begin') {
    st(CC_IDX_NODE_NAME_OFFSET, CC_VAL_DATA_OFFSET);
    put(CC_VAL_DATA_OFFSET, enc.encode(`${tok.name}\0`));
    return c.ret(0, SPAPR_DR_CC_RESPONSE_NEXT_CHILD);
  }
  if (tok.tag === 'end') return c.ret(0, SPAPR_DR_CC_RESPONSE_PREV_PARENT);
  const name = enc.encode(`${tok.name}\0`);
  st(CC_IDX_PROP_NAME_OFFSET, CC_VAL_DATA_OFFSET);
  put(CC_VAL_DATA_OFFSET, name);
  const dataOffset = CC_VAL_DATA_OFFSET + name.length;
  st(CC_IDX_PROP_LEN, tok.value.length);
  st(CC_IDX_PROP_DATA_OFFSET, dataOffset);
  put(dataOffset, tok.value);
  c.ret(0, SPAPR_DR_CC_RESPONSE_NEXT_PROPERTY);
}
