/**
 * QEMU's option-string syntax (util/qemu-option.c opts_do_parse,
 * get_opt_name_value, QEMU 7.2): "a=b,c=d" where ",," is a literal comma in
 * values. The first element may omit its name (the implied option: the
 * driver of -device, the type of -machine); its value then runs to the next
 * single comma. A later element without '=' is a short-form boolean
 * ("foo" = on, "nofoo" = off; deprecated), or "help" / "?".
 */
export interface QemuOpt {
  readonly name: string;
  readonly value: string;
  /** A short-form boolean (QEMU warns that the form is deprecated). */
  readonly shortForm?: boolean;
}

/** get_opt_value: up to the next single ',' (",," is a literal comma). */
function optValue(s: string, i: number): [string, number] {
  let v = '';
  for (; i < s.length; i++) {
    if (s[i] === ',') {
      if (s[i + 1] !== ',') break;
      i++;
    }
    v += s[i];
  }
  return [v, i];
}

export function parseQemuOpts(text: string, implied?: string): QemuOpt[] {
  const out: QemuOpt[] = [];
  let first = implied;
  for (let i = 0; i < text.length;) {
    const rest = text.slice(i);
    const m = /^[^=,]*/.exec(rest)![0];
    if (rest[m.length] !== '=') {
      if (first !== undefined) {
        const [v, j] = optValue(text, i);
        out.push({ name: first, value: v });
        i = j;
      } else {
        if (m === 'help' || m === '?') out.push({ name: 'help', value: '' });
        else if (m.startsWith('no') && m.length > 2) out.push({ name: m.slice(2), value: 'off', shortForm: true });
        else out.push({ name: m, value: 'on', shortForm: true });
        i += m.length;
      }
    } else {
      const [v, j] = optValue(text, i + m.length + 1);
      out.push({ name: m, value: v });
      i = j;
    }
    first = undefined;
    if (text[i] === ',') i++;
  }
  return out;
}
