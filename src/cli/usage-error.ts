import { ConfigError } from '../base/config-error.js';

/**
 * A command-line mistake: printed as "viommu: MESSAGE" with exit status 2,
 * then "viommu: did you mean ...?" when there is a close match.
 */
export class UsageError extends Error {
  override readonly name = 'UsageError';

  constructor(message: string, readonly hint?: string) {
    super(message);
  }

  /** The UsageError for a ConfigError (keeps its did-you-mean hint), with an optional prefix ("hotplug: --machine: "). */
  static fromConfig(e: ConfigError, prefix = ''): UsageError {
    return new UsageError(`${prefix}${e.message}`, e.hint);
  }
}

/** The lines an entry point prints for an error: the message, then its hint, each after "PROG: ". */
export function errorLines(prog: string, e: { readonly message: string; readonly hint?: string | undefined }): string {
  return `${prog}: ${e.message}\n${e.hint ? `${prog}: ${e.hint}\n` : ''}`;
}
