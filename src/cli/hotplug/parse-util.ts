/** Reports a problem with a field of the line being parsed (throws a ScriptError). */
export type Fail = (field: string, problem: string) => never;

export function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A regular expression from a script string (multi-line mode), or a failure naming the field. */
export function regex(v: unknown, field: string, fail: Fail): RegExp {
  if (typeof v !== 'string') return fail(field, 'expected a regular expression (a string)');
  try {
    return new RegExp(v, 'm');
  } catch (e) {
    return fail(field, `not a valid regular expression: ${(e as Error).message}`);
  }
}
