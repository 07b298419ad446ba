import { parseSize } from './size.js';

/**
 * Typed device and machine properties with QEMU's parsing and error texts
 * (qapi/qobject-input-visitor.c keyval mode, hw/core/qdev-properties*.c).
 * Values come from a command line (strings) or a JSON config (strings,
 * numbers, booleans).
 */
export type PropType =
  | { readonly kind: 'bool' }
  | { readonly kind: 'uint'; readonly bits: 8 | 16 | 32 | 64 }
  | { readonly kind: 'int'; readonly bits: 32 | 64 }
  | { readonly kind: 'size' }
  | { readonly kind: 'string' }
  | { readonly kind: 'enum'; readonly values: readonly string[] }
  /** The PCI "addr" property: "slot[.fn]" in hex, or a devfn number. */
  | { readonly kind: 'pci-devfn' };

export type PropValue = boolean | bigint | string;
export type RawValue = string | number | boolean;

export interface PropDef {
  readonly name: string;
  readonly type: PropType;
  /** The default (undefined: unset, e.g. addr). */
  readonly default?: PropValue;
  readonly desc?: string;
}

/** A property value QEMU would refuse; the message is QEMU's. */
export class PropError extends Error {
  override readonly name = 'PropError';

  /** @param hint a "did you mean" suggestion kept out of QEMU's message text */
  constructor(message: string, readonly hint?: string) {
    super(message);
  }
}

const U64 = (1n << 64n) - 1n;

/**
 * qemu_strtou64 / qemu_strtoi64 with base 0: decimal, 0x hex, leading-0
 * octal, optional sign (a negative unsigned value wraps, as strtoull does).
 */
export function parseCInteger(text: string): bigint | undefined {
  const m = /^\s*([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)$/.exec(text);
  if (!m) return undefined;
  const digits = m[2]!;
  let v: bigint;
  if (/^0[xX]/.test(digits)) v = BigInt(digits);
  else if (digits.length > 1 && digits.startsWith('0')) v = BigInt('0o' + digits.slice(1));
  else v = BigInt(digits);
  return m[1] === '-' ? -v : v;
}

/** parse_pci_devfn (set_pci_devfn): "%x.%x" or "%x", slot <= 31, fn <= 7. */
export function parsePciDevfn(text: string): number | undefined {
  const m = /^\s*(?:0[xX])?([0-9a-fA-F]+)(?:\.\s*(?:0[xX])?([0-9a-fA-F]+))?$/.exec(text);
  if (!m) return undefined;
  const slot = parseInt(m[1]!, 16);
  const fn = m[2] === undefined ? 0 : parseInt(m[2], 16);
  if (slot > 31 || fn > 7) return undefined;
  return (slot << 3) | fn;
}

/** qapi_bool_parse: on/yes/true/y and off/no/false/n (case-sensitive). */
export function parseBool(text: string): boolean | undefined {
  if (text === 'on' || text === 'yes' || text === 'true' || text === 'y') return true;
  if (text === 'off' || text === 'no' || text === 'false' || text === 'n') return false;
  return undefined;
}

/**
 * Parses one property value. `owner` is the QOM type name used in
 * "Property 'edu.addr' ..." messages.
 */
export function parseProp(owner: string, def: PropDef, raw: RawValue): PropValue {
  const name = def.name;
  const t = def.type;
  switch (t.kind) {
    case 'bool': {
      const v = typeof raw === 'boolean' ? raw : typeof raw === 'string' ? parseBool(raw) : undefined;
      if (v === undefined) throw new PropError(`Parameter '${name}' expects 'on' or 'off'`);
      return v;
    }
    case 'uint':
    case 'int': {
      const v = typeof raw === 'number' ? (Number.isInteger(raw) ? BigInt(raw) : undefined)
        : typeof raw === 'string' ? parseCInteger(raw) : undefined;
      if (v === undefined) throw new PropError(`Parameter '${name}' expects integer`);
      if (t.kind === 'uint') {
        const u = v < 0n ? (v >= -U64 ? BigInt.asUintN(64, v) : undefined) : v;
        if (u === undefined || u > U64 || (t.bits < 64 && u >= 1n << BigInt(t.bits))) {
          throw new PropError(t.bits === 64 ? `Parameter '${name}' expects integer` : `Parameter '${name}' expects uint${t.bits}_t`);
        }
        return u;
      }
      const lim = 1n << BigInt(t.bits - 1);
      if (v < -lim || v >= lim) throw new PropError(`Parameter '${name}' expects int${t.bits}_t`);
      return v;
    }
    case 'size': {
      const v = typeof raw === 'number' ? (Number.isInteger(raw) && raw >= 0 ? BigInt(raw) : undefined)
        : typeof raw === 'string' ? parseSize(raw)?.value : undefined;
      if (v === undefined) throw new PropError(`Parameter '${name}' expects size`);
      return v;
    }
    case 'string':
      if (typeof raw !== 'string') throw new PropError(`Parameter '${name}' expects string`);
      return raw;
    case 'enum':
      if (typeof raw !== 'string' && typeof raw !== 'number') throw new PropError(`Parameter '${name}' does not accept value '${String(raw)}'`);
      if (!t.values.includes(String(raw))) throw new PropError(`Parameter '${name}' does not accept value '${String(raw)}'`);
      return String(raw);
    case 'pci-devfn': {
      if (typeof raw === 'number') {
        if (!Number.isInteger(raw) || raw < -1 || raw > 255) {
          throw new PropError(`Parameter '${name}' expects a value between -1 and 255`);
        }
        return BigInt(raw);
      }
      const v = typeof raw === 'string' ? parsePciDevfn(raw) : undefined;
      if (v === undefined) throw new PropError(`Property '${owner}.${name}' doesn't take value '${String(raw)}'`);
      return BigInt(v);
    }
  }
}

/** A device's or machine's resolved properties: every declared name has a value or is unset. */
export class Props {
  constructor(private readonly values: ReadonlyMap<string, PropValue>) {}

  has(name: string): boolean {
    return this.values.has(name);
  }
  bool(name: string): boolean {
    return this.values.get(name) === true;
  }
  /** An integer property as a number (exact below 2^53). */
  num(name: string): number {
    const v = this.values.get(name);
    return typeof v === 'bigint' ? Number(v) : 0;
  }
  big(name: string): bigint {
    const v = this.values.get(name);
    return typeof v === 'bigint' ? v : 0n;
  }
  str(name: string): string | undefined {
    const v = this.values.get(name);
    return typeof v === 'string' ? v : undefined;
  }
  entries(): [string, PropValue][] {
    return [...this.values];
  }
}

/** QEMU's id rule (id_wellformed): a letter, then letters, digits, '-', '.', '_'. */
export function idWellFormed(id: string): boolean {
  return /^[A-Za-z][A-Za-z0-9\-._]*$/.test(id);
}

export const ID_ERROR = "Parameter 'id' expects an identifier\nIdentifiers consist of letters, digits, '-', '.', '_', starting with a letter.";
