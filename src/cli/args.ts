import { closest } from '../base/suggest.js';
import { UsageError } from './usage-error.js';

/** One flag of a subcommand. */
export interface FlagSpec {
  readonly type: 'bool' | 'string' | 'int' | 'number';
  readonly help: string;
  /** Value name shown in help, e.g. "N" or "FILE". */
  readonly arg?: string;
  readonly default?: string | number | boolean;
  /** How help shows the default when String(default) is not the best form (e.g. "0x9E3779B9"). */
  readonly defaultText?: string;
  /** An int flag that must be >= 0. */
  readonly unsigned?: boolean;
  /** Allowed values for a string flag. */
  readonly choices?: readonly string[];
  /** A string flag that may be given several times: its value is the list. */
  readonly repeatable?: boolean;
}

export interface CommandSpec {
  readonly name: string;
  readonly summary: string;
  /** Positional arguments for the usage line, e.g. "[CONFIG.json]". */
  readonly positional?: string;
  readonly flags: Readonly<Record<string, FlagSpec>>;
  /** Extra help text after the flag list. */
  readonly notes?: string;
}

export type FlagValues = Record<string, string | number | boolean | string[] | undefined>;

export interface ParsedArgs {
  flags: FlagValues;
  positional: string[];
  /** Arguments after a bare "--" (QEMU-style arguments for boot/firmware). */
  rest: string[];
  help: boolean;
}

function parseInt0x(flag: string, text: string, unsigned: boolean): number {
  const v = /^0x[0-9a-f]+$/i.test(text) ? parseInt(text, 16) : /^-?\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(v) || (unsigned && v < 0)) {
    throw new UsageError(`--${flag}: '${text}' is not ${unsigned ? 'a non-negative integer' : 'an integer'}`);
  }
  return v;
}

/** Parses `--flag value`, `--flag=value`, `--bool`, positionals and `--`. */
export function parseArgs(spec: CommandSpec, argv: readonly string[]): ParsedArgs {
  const flags: FlagValues = {};
  for (const [k, f] of Object.entries(spec.flags)) if (f.default !== undefined) flags[k] = f.default;
  const positional: string[] = [];
  let rest: string[] = [];
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      rest = argv.slice(i + 1);
      break;
    }
    if (a === '--help' || a === '-h') {
      help = true;
      continue;
    }
    if (!a.startsWith('--')) {
      positional.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const name = eq < 0 ? a.slice(2) : a.slice(2, eq);
    const f = spec.flags[name];
    if (!f) {
      const near = closest(name, Object.keys(spec.flags));
      throw new UsageError(`${spec.name}: unknown option '--${name}'${near ? `; did you mean '--${near}'?` : ''}`);
    }
    if (f.type === 'bool') {
      flags[name] = eq < 0 ? true : !['0', 'false', 'off', 'no'].includes(a.slice(eq + 1));
      continue;
    }
    const text = eq < 0 ? argv[++i] : a.slice(eq + 1);
    if (text === undefined) throw new UsageError(`${spec.name}: option '--${name}' needs a value (${f.arg ?? 'VALUE'})`);
    if (f.type === 'int') flags[name] = parseInt0x(name, text, f.unsigned === true);
    else if (f.type === 'number') {
      const v = Number(text);
      if (!Number.isFinite(v)) throw new UsageError(`--${name}: '${text}' is not a number`);
      flags[name] = v;
    } else {
      if (f.choices && !f.choices.includes(text)) {
        const near = closest(text, f.choices);
        throw new UsageError(`--${name}: '${text}' is not one of ${f.choices.join(', ')}${near ? `; did you mean '${near}'?` : ''}`);
      }
      if (f.repeatable) flags[name] = [...((flags[name] as string[] | undefined) ?? []), text];
      else flags[name] = text;
    }
  }
  return { flags, positional, rest, help };
}

/** The `--help` text of a subcommand, generated from its spec. */
export function commandHelp(spec: CommandSpec): string {
  const lines = [`usage: viommu ${spec.name} [options]${spec.positional ? ` ${spec.positional}` : ''}`, '', spec.summary, ''];
  const names = Object.keys(spec.flags);
  if (names.length) {
    lines.push('options:');
    const heads = names.map((n) => {
      const f = spec.flags[n]!;
      return `  --${n}${f.type === 'bool' ? '' : ` ${f.arg ?? (f.choices ? f.choices.join('|') : 'VALUE')}`}`;
    });
    const w = Math.max(...heads.map((h) => h.length));
    names.forEach((n, i) => {
      const f = spec.flags[n]!;
      const shown = f.defaultText ?? (f.default !== undefined && f.type !== 'bool' ? String(f.default) : undefined);
      const dflt = (shown !== undefined ? ` (default: ${shown})` : '') + (f.repeatable ? ' (repeatable)' : '');
      lines.push(`${heads[i]!.padEnd(w)}  ${f.help}${dflt}`);
    });
    lines.push(`${'  -h, --help'.padEnd(w)}  show this help`);
  }
  if (spec.notes) lines.push('', spec.notes);
  lines.push('');
  return lines.join('\n');
}
