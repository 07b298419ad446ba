import { closest } from './suggest.js';

/**
 * A bad machine configuration or command line (DESIGN "Errors"): names the
 * field and says what would be valid. Thrown at configuration time only;
 * guest mistakes are architectural events, never exceptions.
 */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';

  constructor(readonly field: string, readonly problem: string, readonly valid?: readonly string[]) {
    super(ConfigError.format(field, problem, valid));
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
