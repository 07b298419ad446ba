import type { Assertion, OracleCounter } from './assertions-parse.js';
import type { HotplugSession } from './session.js';

/** An assertion's verdict. */
export interface Verdict {
  readonly ok: boolean;
  readonly detail: string;
  readonly expected?: string;
  readonly got?: string;
}

function clip(text: string, lines = 40): string {
  const l = text.replace(/\n$/, '').split('\n');
  return l.length <= lines ? l.join('\n') : `${l.slice(0, lines).join('\n')}\n... (${l.length - lines} more lines)`;
}

/** A short description of an assertion for the report. */
export function describeAssertion(a: Assertion): string {
  switch (a.type) {
    case 'hmp':
      return `assert "${a.command}"${a.match ? ` matches /${a.match.source}/` : ''}${a.match && a.noMatch ? ' and' : ''}${a.noMatch ? ` does not match /${a.noMatch.source}/` : ''}`;
    case 'oracle':
      return `assert oracle ${Object.entries(a.counters).map(([k, r]) => (r.min === r.max ? `${k} = ${r.min}` : `${k} in [${r.min}, ${r.max === Number.MAX_SAFE_INTEGER ? '...' : r.max}]`)).join(', ')}`;
    case 'device':
      return `assert device ${a.device}${a.present !== undefined ? (a.present ? ' present' : ' absent') : ''}${a.driver !== undefined ? `${a.present !== undefined ? ',' : ''} driver ${a.driver ?? 'none'}` : ''}`;
    case 'log':
      return `assert log${a.match ? ` has /${a.match.source}/` : ''}${a.noMatch ? ` has no /${a.noMatch.source}/` : ''}`;
  }
}

function oracleValue(s: HotplugSession, k: OracleCounter): number {
  return k === 'violations' ? s.oracle.violationCount : s.oracle.counts[k];
}

/** Evaluates an assertion against the live session. */
export function checkAssertion(s: HotplugSession, a: Assertion): Verdict {
  switch (a.type) {
    case 'hmp': {
      const text = s.hmp(a.command);
      const bad = (a.match && !a.match.test(text)) || (a.noMatch && a.noMatch.test(text));
      const hit = a.noMatch?.exec(text)?.[0];
      return bad
        ? { ok: false, detail: `"${a.command}" output ${a.match && !a.match.test(text) ? `has no match for /${a.match.source}/` : `matches /${a.noMatch!.source}/ at "${hit}"`}`, expected: describeAssertion(a).replace(/^assert /, ''), got: clip(text) }
        : { ok: true, detail: `"${a.command}" as expected` };
    }
    case 'oracle': {
      const bad: string[] = [];
      for (const [k, r] of Object.entries(a.counters)) {
        const v = oracleValue(s, k as OracleCounter);
        if (v < r.min || v > r.max) bad.push(`${k} = ${v}`);
      }
      const all = `checked ${s.oracle.counts.checked}, ok ${s.oracle.counts.ok}, faults ${s.oracle.counts.faults}, untranslated ${s.oracle.counts.untranslated}, violations ${s.oracle.violationCount}`;
      if (bad.length === 0) return { ok: true, detail: `oracle: ${all}` };
      const list = s.oracle.violations.slice(0, 5).map((v) => v.message);
      return { ok: false, detail: `oracle: ${bad.join(', ')}`, expected: describeAssertion(a).replace(/^assert /, ''), got: [all, ...list].join('\n') };
    }
    case 'device': {
      const d = s.device(a.device);
      const present = d.machine !== undefined;
      const driver = d.guest?.driver ?? null;
      const problems: string[] = [];
      if (a.present !== undefined && a.present !== present) problems.push(present ? `${a.device} is present${d.bdf ? ` at ${d.bdf}` : ''}` : `${a.device} is not in the machine`);
      if (a.driver !== undefined && a.driver !== driver) problems.push(driver ? `the guest has ${a.device} bound to ${driver}` : `the guest has no driver bound to ${a.device}${d.guest ? '' : ' (no such device in the guest)'}`);
      return problems.length === 0
        ? { ok: true, detail: `${a.device}: ${present ? `present${d.bdf ? ` at ${d.bdf}` : ''}` : 'absent'}, driver ${driver ?? 'none'}` }
        : { ok: false, detail: problems.join('; '), expected: describeAssertion(a).replace(/^assert /, ''), got: problems.join('; ') };
    }
    case 'log': {
      const lines = s.logLines();
      const found = a.match ? lines.find((l) => a.match!.test(l)) : undefined;
      const forbidden = a.noMatch ? lines.find((l) => a.noMatch!.test(l)) : undefined;
      if ((a.match && !found) || forbidden) {
        return { ok: false, detail: forbidden ? `the log has "${forbidden}"` : `no log line matches /${a.match!.source}/`, expected: describeAssertion(a).replace(/^assert /, ''), got: forbidden ?? clip(lines.slice(-15).join('\n')) };
      }
      return { ok: true, detail: found ? `found "${found}"` : 'no such line' };
    }
  }
}
