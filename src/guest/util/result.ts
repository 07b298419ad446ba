/**
 * Results at the guest boundary: a parser or a guest operation either gives
 * a value or says what was wrong, as a value (DESIGN "Errors"). A malformed
 * firmware table is reported, never trusted and never thrown past the guest.
 */
export type Result<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: string };

export function ok<T>(value: T): Result<T> {
  return { ok: true, value };
}

export function fail<T = never>(error: string): Result<T> {
  return { ok: false, error };
}

/**
 * Thrown only inside a parser by the bounds-checked readers and caught at the
 * parser's own boundary (see `parseWith`), so a bad offset deep in a table
 * becomes one error value.
 */
export class ParseError extends Error {
  override readonly name = 'ParseError';
}

/** Runs a parser body; a ParseError becomes a failed Result. */
export function parseWith<T>(what: string, body: () => T): Result<T> {
  try {
    return ok(body());
  } catch (e) {
    if (e instanceof ParseError) return fail(`${what}: ${e.message}`);
    throw e;
  }
}

export function hex(v: number | bigint, width = 0): string {
  return '0x' + v.toString(16).padStart(width, '0');
}
