import { closest } from './suggest.js';

/**
 * A bad machine configuration or command line (DESIGN "Errors"): names the
 * field and says what would be valid. Thrown at configuration time only;
 * guest mistakes are architectural events, never exceptions.
 */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';

  /**
   * A suggestion kept out of the message ("did you mean 'edu'?"), so messages
   * that copy QEMU's text stay byte-for-byte; entry points print it on its own line.
   */
  readonly hint: string | undefined;

  constructor(readonly field: string, readonly problem: string, readonly valid?: readonly string[], hint?: string) {
    super(ConfigError.format(field, problem, valid));
    this.hint = hint;
  }

  /** The message with its hint appended ("...; did you mean 'edu'?"), for one-line reports. */
  get messageWithHint(): string {
    return this.hint ? `${this.message}; ${this.hint}` : this.message;
  }

  /** "did you mean 'y'?" when `value` is a plausible typo of one of `known`. */
  static didYouMean(value: string, known: readonly string[], prefix = ''): string | undefined {
    const near = closest(value, known);
    return near !== undefined && near !== value ? `did you mean '${prefix}${near}'?` : undefined;
  }

  private static format(field: string, problem: string, valid?: readonly string[]): string {
    const head = field ? `${field}: ${problem}` : problem;
    if (!valid || valid.length === 0) return head;
    return `${head} (valid: ${valid.join(', ')})`;
  }

  /** "field: 'x' is not ...; did you mean 'y'?" for a value from a known set. */
  static unknown(field: string, what: string, value: string, known: readonly string[]): ConfigError {
    const near = closest(value, known);
    const hint = near ? `; did you mean '${near}'?` : '';
    return new ConfigError(field, `unknown ${what} '${value}'${hint}`, known);
  }
}
