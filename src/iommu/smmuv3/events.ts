/**
 * SMMUv3 event records (IHI 0070 7.3; QEMU SMMUEventType, Evt and
 * smmuv3_record_event). A record is 32 bytes, eight little-endian words:
 *   w0  type [7:0], SSV [11], SubstreamID [31:12]
 *   w1  StreamID
 *   w2  STAG [15:0], Stall [31]
 *   w3  PnU [1], InD [2], RnW [3], S2 [7], CLASS [9:8]
 *   w4-5  InputAddr (ADDR)
 *   w6-7  IPA / FetchAddr (ADDR2)
 */
export const EVT_F_UUT = 0x01;
export const EVT_C_BAD_STREAMID = 0x02;
export const EVT_F_STE_FETCH = 0x03;
export const EVT_C_BAD_STE = 0x04;
export const EVT_F_BAD_ATS_TREQ = 0x05;
export const EVT_F_STREAM_DISABLED = 0x06;
export const EVT_F_TRANSL_FORBIDDEN = 0x07;
export const EVT_C_BAD_SUBSTREAMID = 0x08;
export const EVT_F_CD_FETCH = 0x09;
export const EVT_C_BAD_CD = 0x0a;
export const EVT_F_WALK_EABT = 0x0b;
export const EVT_F_TRANSLATION = 0x10;
export const EVT_F_ADDR_SIZE = 0x11;
export const EVT_F_ACCESS = 0x12;
export const EVT_F_PERMISSION = 0x13;

export const EVENT_NAMES: Readonly<Record<number, string>> = {
  [EVT_F_UUT]: 'F_UUT', [EVT_C_BAD_STREAMID]: 'C_BAD_STREAMID', [EVT_F_STE_FETCH]: 'F_STE_FETCH',
  [EVT_C_BAD_STE]: 'C_BAD_STE', [EVT_F_BAD_ATS_TREQ]: 'F_BAD_ATS_TREQ', [EVT_F_STREAM_DISABLED]: 'F_STREAM_DISABLED',
  [EVT_F_TRANSL_FORBIDDEN]: 'F_TRANSL_FORBIDDEN', [EVT_C_BAD_SUBSTREAMID]: 'C_BAD_SUBSTREAMID',
  [EVT_F_CD_FETCH]: 'F_CD_FETCH', [EVT_C_BAD_CD]: 'C_BAD_CD', [EVT_F_WALK_EABT]: 'F_WALK_EABT',
  [EVT_F_TRANSLATION]: 'F_TRANSLATION', [EVT_F_ADDR_SIZE]: 'F_ADDR_SIZE', [EVT_F_ACCESS]: 'F_ACCESS',
  [EVT_F_PERMISSION]: 'F_PERMISSION',
};

/** CLASS of a fault record: the input whose translation faulted. */
export const EVT_CLASS_CD = 0;
export const EVT_CLASS_TT = 1;
export const EVT_CLASS_IN = 2;

/** What the translation path reports; fields absent from an event type are ignored. */
export interface SmmuEvent {
  type: number;
  sid: number;
  /** SubstreamID, when the transaction had one (SSV). */
  ssid?: number;
  /** InputAddr: the IOVA; F_CD_FETCH (QEMU layout): the CD address. */
  addr?: number;
  /** ADDR2: FetchAddr of F_STE_FETCH / F_WALK_EABT (and F_CD_FETCH in the spec's layout). */
  addr2?: number;
  /** Read (true) or write. */
  rnw?: boolean;
  class?: number;
}

const TWO32 = 0x1_0000_0000;

function put64(w: Uint32Array, at: number, v: number): void {
  const hi = Math.floor(v / TWO32);
  w[at] = (v - hi * TWO32) >>> 0;
  w[at + 1] = hi >>> 0;
}

/**
 * The eight words of an event record, with the fields QEMU fills for each
 * type (smmuv3_record_event). C_BAD_SUBSTREAMID always carries the
 * SubstreamID and has no SSV bit (IHI 0070 7.3.9). F_BAD_ATS_TREQ and
 * F_TRANSL_FORBIDDEN, which QEMU never records, carry the SID, SSV/SSID,
 * InputAddr and RnW in the common positions (the spec's R/W/X/PRIV and
 * Span fields of F_BAD_ATS_TREQ are not modelled).
 */
export function encodeEvent(e: SmmuEvent): Uint32Array {
  const w = new Uint32Array(8);
  const ssv = e.ssid !== undefined;
  const ssid = (e.ssid ?? 0) & 0xfffff;
  w[1] = e.sid >>> 0;
  switch (e.type) {
    case EVT_C_BAD_SUBSTREAMID:
      w[0] = e.type | (ssid << 12);
      break;
    case EVT_F_STREAM_DISABLED:
      w[0] = e.type;
      break;
    case EVT_C_BAD_STREAMID:
    case EVT_C_BAD_STE:
    case EVT_C_BAD_CD:
      w[0] = e.type | (ssv ? 1 << 11 : 0) | (ssid << 12);
      break;
    case EVT_F_STE_FETCH:
      w[0] = e.type | (ssv ? 1 << 11 : 0) | (ssid << 12);
      put64(w, 6, e.addr2 ?? 0);
      break;
    case EVT_F_CD_FETCH:
      w[0] = e.type | (ssv ? 1 << 11 : 0) | (ssid << 12);
      if (e.addr !== undefined) put64(w, 4, e.addr);
      if (e.addr2 !== undefined) put64(w, 6, e.addr2);
      break;
    case EVT_F_TRANSL_FORBIDDEN:
      w[0] = e.type;
      w[3] = e.rnw ? 1 << 3 : 0;
      put64(w, 4, e.addr ?? 0);
      break;
    default:
      // F_BAD_ATS_TREQ, F_WALK_EABT, F_TRANSLATION, F_ADDR_SIZE, F_ACCESS, F_PERMISSION (QEMU's FullInfo).
      w[0] = e.type | (ssv ? 1 << 11 : 0) | (ssid << 12);
      w[3] = (e.rnw ? 1 << 3 : 0) | ((e.class ?? 0) << 8);
      put64(w, 4, e.addr ?? 0);
      if (e.addr2 !== undefined) put64(w, 6, e.addr2);
  }
  w[0] = w[0]! >>> 0;
  return w;
}

/** A decoded record, for tests and the guest-facing `info iommu` line. */
export function describeEvent(w: ArrayLike<number>): string {
  const type = w[0]! & 0xff;
  const name = EVENT_NAMES[type] ?? `0x${type.toString(16)}`;
  const addr = (w[5]! >>> 0) * TWO32 + (w[4]! >>> 0);
  return `${name} sid 0x${(w[1]! >>> 0).toString(16)}${w[0]! & (1 << 11) ? ` ssid ${w[0]! >>> 12}` : ''} addr 0x${addr.toString(16)}`;
}
