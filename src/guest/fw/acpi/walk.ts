import type { GuestPort } from '../../port.js';
import { ByteView } from '../../util/bytes.js';
import { fail, hex, ok, type Result } from '../../util/result.js';
import { readRsdp, type Rsdp } from './rsdp.js';
import { readSdt, SDT_HEADER_SIZE, type AcpiTable } from './sdt.js';

/** FADT fields (ACPI 6.5 section 5.2.9): DSDT (u32 at 40) and X_DSDT (u64 at 140, when the table is long enough). */
const FADT_DSDT = 40;
const FADT_X_DSDT = 140;

export interface AcpiWalk {
  readonly rsdp: Rsdp;
  readonly root: AcpiTable;
  /** Every valid table reached from the root (and the DSDT through the FADT), in root order. */
  readonly tables: readonly AcpiTable[];
  /** Tables that failed validation and were left out. */
  readonly errors: readonly string[];
}

/**
 * Walks RSDP -> XSDT (revision >= 2, as Linux prefers) or RSDT -> tables,
 * validating each. A bad RSDP or root table fails the walk; a bad table
 * under it is reported in `errors` and not used.
 */
export function walkAcpi(port: GuestPort, rsdpAddr: number): Result<AcpiWalk> {
  const rsdp = readRsdp(port, rsdpAddr);
  if (!rsdp.ok) return rsdp;
  const useX = rsdp.value.revision >= 2 && rsdp.value.xsdtAddress !== 0;
  const rootAddr = useX ? rsdp.value.xsdtAddress : rsdp.value.rsdtAddress;
  const root = readSdt(port, rootAddr, useX ? 'XSDT' : 'RSDT');
  if (!root.ok) return root;
  const entrySize = useX ? 8 : 4;
  const rv = new ByteView(root.value.bytes, root.value.signature);
  const n = (root.value.length - SDT_HEADER_SIZE) / entrySize;
  if (!Number.isInteger(n)) return fail(`${root.value.signature} at ${hex(rootAddr)}: length ${root.value.length} is not a whole number of entries`);
  const tables: AcpiTable[] = [];
  const errors: string[] = [];
  for (let i = 0; i < n; i++) {
    const off = SDT_HEADER_SIZE + i * entrySize;
    let addr: number;
    try {
      addr = useX ? rv.u64le(off) : rv.u32le(off);
    } catch {
      errors.push(`${root.value.signature} entry ${i}: address beyond the guest's address range`);
      continue;
    }
    const t = readSdt(port, addr);
    if (!t.ok) {
      errors.push(t.error);
      continue;
    }
    tables.push(t.value);
    if (t.value.signature === 'FACP') {
      const fv = new ByteView(t.value.bytes, 'FACP');
      let dsdt = 0;
      try {
        if (t.value.length >= FADT_X_DSDT + 8) dsdt = fv.u64le(FADT_X_DSDT);
        if (dsdt === 0) dsdt = fv.u32le(FADT_DSDT);
      } catch {
        errors.push('FACP: DSDT address beyond the guest\'s address range');
      }
      if (dsdt !== 0) {
        const d = readSdt(port, dsdt, 'DSDT');
        if (d.ok) tables.push(d.value);
        else errors.push(d.error);
      }
    }
  }
  return ok({ rsdp: rsdp.value, root: root.value, tables, errors });
}
