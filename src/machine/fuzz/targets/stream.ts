import type { CharConnection } from '../../chardev.js';
import type { FuzzRng } from '../rng.js';

/**
 * An in-process connection for the QMP and qtest servers: what the server
 * writes is collected; close() ends it from the client side (a half-open
 * peer leaves a partial line behind).
 */
export class FakeConnection implements CharConnection {
  readonly out: string[] = [];
  private dataCb: ((chunk: string) => void) | undefined;
  private readonly closeCbs: (() => void)[] = [];
  closed = false;

  write(text: string): void {
    if (!this.closed) this.out.push(text);
  }
  onData(cb: (chunk: string) => void): void {
    this.dataCb = cb;
  }
  onClose(cb: () => void): void {
    this.closeCbs.push(cb);
  }
  send(chunk: string): void {
    if (!this.closed) this.dataCb?.(chunk);
  }
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const cb of this.closeCbs) cb();
  }
  /** Everything written since the last call, joined. */
  take(): string {
    return this.out.splice(0).join('');
  }
}

/** Error texts that are JavaScript failures leaking to a client, not protocol answers. */
const INTERNAL_ERROR = /TypeError|RangeError|ReferenceError|SyntaxError: (?!JSON)|Cannot read propert|is not a function|is not iterable|undefined|NaN|Maximum call stack|Invalid array length|Invalid string length/;

/** Whether a reply looks like a JavaScript failure; what the server quotes back from the client ('...') does not count. */
export function isInternalError(text: string): boolean {
  return INTERNAL_ERROR.test(text.replace(/'[^']*'/g, "''"));
}

/** Printable and control garbage, UTF-8 oddities, and the protocols' own punctuation. */
export function garbage(rng: FuzzRng, n: number): string {
  const alphabet = '{}[]":,\\ \n\r\t0123456789abcdefxq-+.eE\u0000\u00ff\u2028\ud800\ufffd\u001b';
  let s = '';
  for (let i = 0; i < n; i++) s += rng.chance(0.8) ? alphabet[rng.below(alphabet.length)] : String.fromCharCode(rng.below(0x250));
  return s;
}
