import { ByteView } from '../util/bytes.js';
import { parseWith, ParseError, type Result } from '../util/result.js';

/**
 * The RTAS error log as check-exception writes it for a hot-plug event
 * (PAPR+ / LoPAPR section 10.3.2, "RTAS Error/Event Return Format";
 * Linux arch/powerpc/include/asm/rtas.h struct rtas_error_log,
 * rtas_ext_event_log_v6, pseries_errorlog, pseries_hp_errorlog; QEMU
 * hw/ppc/spapr_events.c). All fields big-endian.
 */

/** check-exception's vector argument for an external interrupt (RTAS_VECTOR_EXTERNAL_INTERRUPT). */
export const RTAS_VECTOR_EXTERNAL_INTERRUPT = 0x500;
/** check-exception's event mask: hot-plug events (RTAS_HOTPLUG_EVENTS). */
export const RTAS_HOTPLUG_EVENTS = 0x1000_0000;
/** rtas_error_log byte 3 (type): RTAS_TYPE_HOTPLUG. */
export const RTAS_TYPE_HOTPLUG = 0xe5;
/** Byte 0 (version) of the logs Linux decodes further: RTAS_VERSION_6 / the v6 extended log format. */
export const RTAS_LOG_VERSION_6 = 6;
/** rtas_ext_event_log_v6: 16 bytes after the 8-byte fixed part; vendor sections start at offset 24. */
export const RTAS_V6_EXT_HDR = 8;
export const RTAS_V6_SECTIONS = 24;
/** Company ID "IBM\0" at ext-header bytes 12..15 (RTAS_V6EXT_COMPANY_ID_IBM). */
export const RTAS_V6EXT_COMPANY_ID_IBM = 0x49424d00;
/** pseries_errorlog section ID of the hot-plug section, two ASCII bytes "HP" (PSERIES_ELOG_SECT_ID_HOTPLUG). */
export const PSERIES_ELOG_SECT_ID_HOTPLUG = 0x4850;
/** pseries_errorlog header: id, length (of the whole section), version, subtype, creator; data at +8. */
export const PSERIES_ELOG_HDR = 8;

/** pseries_hp_errorlog.resource (QEMU RTAS_LOG_V6_HP_TYPE_*: 5 is PCI, which Linux leaves to rtas_errd). */
export const HP_TYPE_CPU = 1;
export const HP_TYPE_MEMORY = 2;
export const HP_TYPE_SLOT = 3;
export const HP_TYPE_PHB = 4;
export const HP_TYPE_PCI = 5;
export const HP_TYPE_PMEM = 6;
/** pseries_hp_errorlog.action and id_type (PSERIES_HP_ELOG_ACTION_*, PSERIES_HP_ELOG_ID_*). */
export const HP_ACTION_ADD = 1;
export const HP_ACTION_REMOVE = 2;
export const HP_ID_DRC_NAME = 1;
export const HP_ID_DRC_INDEX = 2;
export const HP_ID_DRC_COUNT = 3;
export const HP_ID_DRC_IC = 4;

const HP_TYPE_NAMES: Record<number, string> = { 1: 'CPU', 2: 'memory', 3: 'slot', 4: 'PHB', 5: 'PCI', 6: 'PMEM' };

/** One section of the v6 extended log, as get_pseries_errorlog walks them. */
export interface ElogSection {
  readonly id: string;
  readonly offset: number;
  readonly length: number;
}

/** The "HP" section's event (struct pseries_hp_errorlog). */
export interface HotplugEvent {
  readonly resource: number;
  readonly action: number;
  readonly idType: number;
  /** The DRC index (id type 2), the count (3), or the first index (4). */
  readonly drcIndex: number | undefined;
  readonly drcName: string | undefined;
}

export interface RtasHotplugLog {
  readonly version: number;
  readonly severity: number;
  readonly initiator: number;
  readonly type: number;
  readonly extendedLength: number;
  readonly sections: readonly ElogSection[];
  /** The hot-plug section's event, if the log has one. */
  readonly hotplug: HotplugEvent | undefined;
}

export function hpTypeName(t: number): string {
  return HP_TYPE_NAMES[t] ?? `type ${t}`;
}

function sectionName(id: number): string {
  return String.fromCharCode(id >>> 8, id & 0xff);
}

/**
 * Decodes a log from check-exception's buffer. The fixed part (byte 0
 * version, byte 1 severity [7:5] / disposition [4:3] / extended [2],
 * byte 2 initiator [7:4] / target [3:0], byte 3 type, bytes 4..7 the
 * extended length) is read first; a version 6 extended log with IBM's
 * company ID is walked section by section by each section's own length
 * (get_pseries_errorlog), and the "HP" section decoded. A section whose
 * length would run past the log, or is shorter than its header, fails
 * the whole log.
 */
export function parseRtasHotplugLog(buf: Uint8Array): Result<RtasHotplugLog> {
  return parseWith('RTAS event log', () => {
    const v = new ByteView(buf, 'rtas log');
    const version = v.u8(0);
    const b1 = v.u8(1);
    const b2 = v.u8(2);
    const type = v.u8(3);
    const extendedLength = v.u32be(4);
    const sections: ElogSection[] = [];
    let hotplug: HotplugEvent | undefined;
    const extended = (b1 & 0x04) !== 0;
    if (version === RTAS_LOG_VERSION_6 && extended && extendedLength >= RTAS_V6_SECTIONS - RTAS_V6_EXT_HDR) {
      const end = RTAS_V6_EXT_HDR + extendedLength;
      if (end > buf.length) throw new ParseError(`extended length ${extendedLength} runs past the ${buf.length}-byte buffer`);
      const company = v.u32be(RTAS_V6_EXT_HDR + 12);
      if (company !== RTAS_V6EXT_COMPANY_ID_IBM) throw new ParseError(`company ID 0x${company.toString(16)} is not IBM's`);
      for (let off = RTAS_V6_SECTIONS; off + 4 <= end;) {
        const id = v.u16be(off);
        const length = v.u16be(off + 2);
        if (length < 4 || off + length > end) throw new ParseError(`section "${sectionName(id)}" at ${off}: length ${length} does not fit the log`);
        sections.push({ id: sectionName(id), offset: off, length });
        if (id === PSERIES_ELOG_SECT_ID_HOTPLUG && !hotplug) {
          if (length < PSERIES_ELOG_HDR + 8) throw new ParseError(`hot-plug section at ${off}: ${length} bytes is too short`);
          const d = off + PSERIES_ELOG_HDR;
          const idType = v.u8(d + 2);
          let drcName: string | undefined;
          if (idType === HP_ID_DRC_NAME) {
            const bytes = buf.subarray(d + 4, off + length);
            const nul = bytes.indexOf(0);
            drcName = String.fromCharCode(...bytes.subarray(0, nul < 0 ? bytes.length : nul));
          }
          hotplug = {
            resource: v.u8(d), action: v.u8(d + 1), idType,
            drcIndex: idType === HP_ID_DRC_NAME ? undefined : v.u32be(d + 4) >>> 0,
            drcName,
          };
        }
        off += length;
      }
    }
    return { version, severity: b1 >>> 5, initiator: b2 >>> 4, type, extendedLength, sections, hotplug };
  });
}
