import type { GuestPort } from '../../port.js';
import { byteSum, ByteView } from '../../util/bytes.js';
import { fail, hex, ok, type Result } from '../../util/result.js';

/**
 * Root System Description Pointer (ACPI 6.5 section 5.2.5.3): "RSD PTR ",
 * checksum over the first 20 bytes, OEMID, Revision (0 = ACPI 1.0, RSDT
 * only; 2 = ACPI 2.0+, with Length, XsdtAddress and an extended checksum over
 * the 36-byte structure).
 */
export const RSDP_SIGNATURE = 'RSD PTR ';
export const RSDP_V1_SIZE = 20;
export const RSDP_V2_SIZE = 36;

export interface Rsdp {
  readonly addr: number;
  readonly revision: number;
  readonly oemId: string;
  readonly rsdtAddress: number;
  /** 0 when absent (revision 0). */
  readonly xsdtAddress: number;
}

export function parseRsdp(bytes: Uint8Array, addr: number): Result<Rsdp> {
  const where = `RSDP at ${hex(addr)}`;
  if (bytes.length < RSDP_V1_SIZE) return fail(`${where}: only ${bytes.length} bytes`);
  const v = new ByteView(bytes, 'RSDP');
  if (v.ascii(0, 8) !== RSDP_SIGNATURE) return fail(`${where}: no "RSD PTR " signature`);
  if (byteSum(bytes, 0, RSDP_V1_SIZE) !== 0) return fail(`${where}: bad checksum`);
  const revision = v.u8(15);
  const oemId = v.ascii(9, 6);
  const rsdtAddress = v.u32le(16);
  if (revision < 2) return ok({ addr, revision, oemId, rsdtAddress, xsdtAddress: 0 });
  if (bytes.length < RSDP_V2_SIZE) return fail(`${where}: revision ${revision} but only ${bytes.length} bytes`);
  const length = v.u32le(20);
  if (length < RSDP_V2_SIZE || length > bytes.length) return fail(`${where}: length ${length} is not a valid ACPI 2.0 RSDP length`);
  if (byteSum(bytes, 0, length) !== 0) return fail(`${where}: bad extended checksum`);
  let xsdtAddress: number;
  try {
    xsdtAddress = v.u64le(24);
  } catch {
    return fail(`${where}: XsdtAddress is beyond the guest's address range`);
  }
  return ok({ addr, revision, oemId, rsdtAddress, xsdtAddress });
}

export function readRsdp(port: GuestPort, addr: number): Result<Rsdp> {
  const bytes = new Uint8Array(RSDP_V2_SIZE);
  if (!port.readBytes(addr, bytes)) return fail(`RSDP at ${hex(addr)}: not readable`);
  return parseRsdp(bytes, addr);
}
