import { ParseError, fail, type Result } from '../../util/result.js';
import type { AcpiTable } from './sdt.js';

/** A typed handle for one registered table parser. */
export interface AcpiParserKey<T> {
  readonly signature: string;
  readonly parse: (t: AcpiTable) => Result<T>;
}

/**
 * Parsers for ACPI tables by signature. The firmware stage registers MCFG
 * and MADT; each vIOMMU issue registers its own (DMAR, IORT, VIOT) and reads
 * its parsed tables back through the key it got. A table that fails its
 * parser is reported, and nothing from it is used.
 */
export class AcpiParsers {
  private readonly keys: AcpiParserKey<unknown>[] = [];
  private readonly parsed = new Map<AcpiParserKey<unknown>, unknown[]>();
  readonly errors: string[] = [];

  register<T>(signature: string, parse: (t: AcpiTable) => Result<T>): AcpiParserKey<T> {
    if (!/^[A-Z0-9_]{4}$/.test(signature)) throw new Error(`ACPI signature '${signature}' is not 4 characters`);
    const key: AcpiParserKey<T> = { signature, parse };
    this.keys.push(key);
    return key;
  }

  /** Runs every registered parser over the tables with its signature. */
  parseAll(tables: readonly AcpiTable[]): void {
    for (const key of this.keys) {
      const out: unknown[] = [];
      for (const t of tables) {
        if (t.signature !== key.signature) continue;
        let r: Result<unknown>;
        try {
          r = key.parse(t);
        } catch (e) {
          if (!(e instanceof ParseError)) throw e;
          r = fail(`${t.signature}: ${e.message}`);
        }
        if (r.ok) out.push(r.value);
        else this.errors.push(r.error);
      }
      this.parsed.set(key, out);
    }
  }

  /** The parsed tables for a key (empty when none was present or all were malformed). */
  get<T>(key: AcpiParserKey<T>): readonly T[] {
    return (this.parsed.get(key) ?? []) as T[];
  }
}
