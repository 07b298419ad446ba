import type { GuestPort } from '../../port.js';
import { byteSum, ByteView } from '../../util/bytes.js';
import { fail, hex, ok, type Result } from '../../util/result.js';

/** System Description Table header (ACPI 6.5 section 5.2.6), 36 bytes. */
export const SDT_HEADER_SIZE = 36;
/** Bound on a table's claimed length, so a corrupt length cannot make the guest read all of RAM. */
export const MAX_TABLE_LENGTH = 1 << 20;

export interface AcpiTable {
  readonly signature: string;
  /** Guest-physical address the table was read from. */
  readonly addr: number;
  readonly length: number;
  readonly revision: number;
  readonly oemId: string;
  readonly oemTableId: string;
  /** Exactly `length` bytes. */
  readonly bytes: Uint8Array;
}

/**
 * Validates a table image: header present, Length within bounds and the
 * image, checksum zero over Length bytes, and the expected signature.
 */
export function checkSdt(bytes: Uint8Array, addr: number, expect?: string): Result<AcpiTable> {
  const where = `ACPI table at ${hex(addr)}`;
  if (bytes.length < SDT_HEADER_SIZE) return fail(`${where}: ${bytes.length} bytes is shorter than a table header`);
  const v = new ByteView(bytes, 'table');
  const signature = v.ascii(0, 4);
  const length = v.u32le(4);
  if (expect !== undefined && signature !== expect) return fail(`${where}: signature '${signature}', expected '${expect}'`);
  if (length < SDT_HEADER_SIZE) return fail(`${where} (${signature}): length ${length} is shorter than its header`);
  if (length > MAX_TABLE_LENGTH || length > bytes.length) return fail(`${where} (${signature}): length ${length} runs past the table image`);
  if (byteSum(bytes, 0, length) !== 0) return fail(`${where} (${signature}): bad checksum`);
  return ok({ signature, addr, length, revision: v.u8(8), oemId: v.ascii(10, 6), oemTableId: v.ascii(16, 8), bytes: bytes.subarray(0, length) });
}

/** Reads and validates the table at `addr` in guest memory. */
export function readSdt(port: GuestPort, addr: number, expect?: string): Result<AcpiTable> {
  const head = new Uint8Array(SDT_HEADER_SIZE);
  if (!port.readBytes(addr, head)) return fail(`ACPI table at ${hex(addr)}: not readable`);
  const length = new ByteView(head).u32le(4);
  if (length < SDT_HEADER_SIZE || length > MAX_TABLE_LENGTH) {
    return fail(`ACPI table at ${hex(addr)} ('${new ByteView(head).ascii(0, 4)}'): implausible length ${length}`);
  }
  const bytes = new Uint8Array(length);
  if (!port.readBytes(addr, bytes)) return fail(`ACPI table at ${hex(addr)}: not readable`);
  return checkSdt(bytes, addr, expect);
}
