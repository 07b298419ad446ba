/**
 * JSON as QMP speaks it (QEMU qobject/json-lexer.c, json-streamer.c,
 * json-parser.c, qjson.c): a stream of values split by bracket depth, the
 * single-quoted string extension, QEMU's parse-error texts, and output with
 * ", " and ": " separators. Integers beyond 2^53 stay exact as bigint.
 */
export type JsonValue = null | boolean | number | bigint | string | JsonValue[] | JsonObject;
export interface JsonObject {
  [key: string]: JsonValue;
}

type Tok =
  | { t: 'punct'; v: '{' | '}' | '[' | ']' | ':' | ',' }
  | { t: 'str'; v: string }
  | { t: 'num'; v: number | bigint }
  | { t: 'kw'; v: string };

/** Limits as QEMU's streamer has them, so a client cannot make us buffer without bound. */
export const MAX_MESSAGE_BYTES = 64 * 1024 * 1024;
export const MAX_NESTING = 1024;

export type StreamItem = { ok: true; value: JsonValue } | { ok: false; error: string };

/**
 * Splits incoming text into complete top-level values. Feed chunks; each
 * complete value (or parse error) is returned in order. After an error the
 * stream resynchronises on the next token, as QEMU's does.
 */
export class JsonStream {
  private buf = '';
  private toks: Tok[] = [];
  private depth = 0;
  private bytes = 0;
  /** The string token at the start of `buf`, as far as it was lexed. */
  private partial: PartialString | undefined;

  feed(chunk: string): StreamItem[] {
    this.buf += chunk;
    const out: StreamItem[] = [];
    let i = 0;
    const s = this.buf;
    while (i < s.length) {
      const c = s[i]!;
      if (c === ' ' || c === '\t' || c === '\r' || c === '\n') {
        i++;
        continue;
      }
      let tok: Tok | undefined;
      let next = i + 1;
      if ('{}[]:,'.includes(c)) {
        tok = { t: 'punct', v: c as '{' };
      } else if (c === '"' || c === "'") {
        const r = lexString(s, i, i === 0 ? this.partial : undefined);
        this.partial = undefined;
        if (typeof r === 'object' && 'incomplete' in r) {
          this.partial = { incomplete: true, v: r.v, pos: r.pos - i };
          break;
        }
        if (typeof r === 'string') {
          out.push(this.fail(r));
          i = skipToLineEnd(s, i);
          continue;
        }
        tok = { t: 'str', v: r.v };
        next = r.end;
      } else if (c === '-' || (c >= '0' && c <= '9')) {
        const m = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?/.exec(s.slice(i, i + 400));
        if (!m || i + m[0].length >= s.length) {
          if (!m) {
            out.push(this.fail('invalid number'));
            i = skipToLineEnd(s, i);
            continue;
          }
          break; // the number may continue in the next chunk
        }
        const text = m[0];
        const isInt = !m[2] && !m[3];
        const n = Number(text);
        tok = { t: 'num', v: isInt && !Number.isSafeInteger(n) ? BigInt(text) : n };
        next = i + text.length;
      } else if (/[A-Za-z_]/.test(c)) {
        const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(s.slice(i, i + 200))!;
        if (i + m[0].length >= s.length) break;
        tok = { t: 'kw', v: m[0] };
        next = i + m[0].length;
      } else {
        out.push(this.fail(`invalid character '${c}'`));
        i++;
        continue;
      }
      this.bytes += next - i;
      i = next;
      this.toks.push(tok);
      if (tok.t === 'punct' && (tok.v === '{' || tok.v === '[')) this.depth++;
      else if (tok.t === 'punct' && (tok.v === '}' || tok.v === ']')) this.depth--;
      if (this.depth > MAX_NESTING || this.bytes > MAX_MESSAGE_BYTES) {
        out.push(this.fail(this.depth > MAX_NESTING ? 'JSON nesting too deep' : 'JSON message too large'));
        continue;
      }
      if (this.depth <= 0) {
        out.push(parseTokens(this.toks));
        this.toks = [];
        this.depth = 0;
        this.bytes = 0;
      }
    }
    this.buf = s.slice(i);
    if (this.buf.length > MAX_MESSAGE_BYTES) {
      out.push(this.fail('JSON message too large'));
      this.buf = '';
      this.partial = undefined;
    }
    return out;
  }

  private fail(msg: string): StreamItem {
    this.toks = [];
    this.depth = 0;
    this.bytes = 0;
    return { ok: false, error: `JSON parse error, ${msg}` };
  }
}

function skipToLineEnd(s: string, i: number): number {
  const nl = s.indexOf('\n', i);
  return nl < 0 ? s.length : nl + 1;
}

/** A string token cut by the end of a chunk: what was decoded and where to go on. */
interface PartialString {
  readonly incomplete: true;
  readonly v: string;
  readonly pos: number;
}

/**
 * Lexes the string token at `start`; with `resume` (a PartialString for the
 * same token, from an earlier chunk) it goes on where that one stopped, so
 * a long string arriving in many chunks costs time linear in its length.
 */
function lexString(s: string, start: number, resume?: PartialString): { v: string; end: number } | PartialString | string {
  const q = s[start]!;
  // Runs of plain characters are copied at once; only quotes, escapes and control characters stop the scan.
  const special = q === '"' ? /["\\\x00-\x1f]/g : /['\\\x00-\x1f]/g;
  let v = resume?.v ?? '';
  let i = resume?.pos ?? start + 1;
  for (;;) {
    special.lastIndex = i;
    const m = special.exec(s);
    const j = m ? m.index : s.length;
    if (j > i) v += s.slice(i, j);
    if (!m) return { incomplete: true, v, pos: s.length };
    i = j;
    const c = s[i]!;
    if (c === q) return { v, end: i + 1 };
    if (c !== '\\') return 'control character in string';
    const e = s[i + 1];
    if (e === undefined) return { incomplete: true, v, pos: i };
    const simple: Record<string, string> = { '"': '"', "'": "'", '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
    if (e in simple) {
      v += simple[e];
      i += 2;
    } else if (e === 'u') {
      const h = s.slice(i + 2, i + 6);
      if (h.length < 4) return { incomplete: true, v, pos: i };
      if (!/^[0-9a-fA-F]{4}$/.test(h)) return 'invalid escape sequence in string';
      v += String.fromCharCode(parseInt(h, 16));
      i += 6;
    } else return 'invalid escape sequence in string';
  }
}

/** json-parser.c over one complete token list. */
function parseTokens(toks: Tok[]): StreamItem {
  let p = 0;
  const err = (m: string): never => {
    throw new Error(m);
  };
  const value = (): JsonValue => {
    const t = toks[p++];
    if (!t) return err('expecting value');
    if (t.t === 'str' || t.t === 'num') return t.v;
    if (t.t === 'kw') {
      if (t.v === 'true') return true;
      if (t.v === 'false') return false;
      if (t.v === 'null') return null;
      return err(`invalid keyword '${t.v}'`);
    }
    if (t.v === '{') {
      const o: JsonObject = {};
      if (toks[p]?.t === 'punct' && toks[p]!.v === '}') {
        p++;
        return o;
      }
      for (;;) {
        const k = toks[p++];
        if (!k || k.t !== 'str') return err('key is not a string in object');
        const colon = toks[p++];
        if (!colon || colon.t !== 'punct' || colon.v !== ':') return err('missing : in object pair');
        o[k.v] = value();
        const sep = toks[p++];
        if (sep?.t === 'punct' && sep.v === '}') return o;
        if (!sep || sep.t !== 'punct' || sep.v !== ',') return err('expected separator in dict');
      }
    }
    if (t.v === '[') {
      const a: JsonValue[] = [];
      if (toks[p]?.t === 'punct' && toks[p]!.v === ']') {
        p++;
        return a;
      }
      for (;;) {
        a.push(value());
        const sep = toks[p++];
        if (sep?.t === 'punct' && sep.v === ']') return a;
        if (!sep || sep.t !== 'punct' || sep.v !== ',') return err('expected separator in list');
      }
    }
    return err('expecting value');
  };
  try {
    const v = value();
    if (p !== toks.length) return { ok: false, error: 'JSON parse error, expecting value' };
    return { ok: true, value: v };
  } catch (e) {
    return { ok: false, error: `JSON parse error, ${(e as Error).message}` };
  }
}

/** qobject_to_json: compact with ", " and ": " separators, as QEMU prints QMP. */
export function toQmpJson(v: JsonValue | undefined): string {
  if (v === undefined || v === null) return 'null';
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : 'null';
  if (typeof v === 'boolean' || typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(toQmpJson).join(', ')}]`;
  const parts: string[] = [];
  for (const [k, x] of Object.entries(v)) if (x !== undefined) parts.push(`${JSON.stringify(k)}: ${toQmpJson(x)}`);
  return `{${parts.join(', ')}}`;
}

export function isObject(v: JsonValue | undefined): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
