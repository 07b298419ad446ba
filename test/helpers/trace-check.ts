import type { ChromeTraceEvent, ChromeTraceFile } from '../../src/base/chrome-trace.js';

/**
 * Checks a Chrome trace file's structure: events have the fields viewers
 * need; per (pid, tid) the timestamps never go back and B/E spans nest
 * (each E closes the innermost open B of the same name); nothing is left
 * open. Returns the problems (empty when fine).
 */
export function checkTrace(file: ChromeTraceFile): string[] {
  const problems: string[] = [];
  if (!Array.isArray(file.traceEvents)) return ['no traceEvents array'];
  const stacks = new Map<string, ChromeTraceEvent[]>();
  const last = new Map<string, number>();
  for (const e of file.traceEvents) {
    if (typeof e.name !== 'string' || !['B', 'E', 'X', 'i', 'M'].includes(e.ph) || !Number.isInteger(e.pid) || !Number.isInteger(e.tid) || !Number.isFinite(e.ts)) {
      problems.push(`malformed event ${JSON.stringify(e)}`);
      continue;
    }
    if (e.ph === 'M') continue;
    const key = `${e.pid}/${e.tid}`;
    if (e.ts < (last.get(key) ?? -Infinity)) problems.push(`time goes back on ${key} at ${e.name} (${e.ts})`);
    last.set(key, e.ts);
    if (e.ph === 'X' && !(typeof e.dur === 'number' && e.dur >= 0)) problems.push(`X without a duration: ${e.name}`);
    const st = stacks.get(key) ?? [];
    stacks.set(key, st);
    if (e.ph === 'B') st.push(e);
    if (e.ph === 'E') {
      const open = st.pop();
      if (!open) problems.push(`E ${e.name} on ${key} with nothing open`);
      else if (open.name !== e.name) problems.push(`E ${e.name} on ${key} closes B ${open.name}`);
    }
  }
  for (const [key, st] of stacks) if (st.length) problems.push(`${st.length} spans left open on ${key}: ${st.map((e) => e.name).join(', ')}`);
  return problems;
}

/** Names of the processes and threads (metadata) by pid / "pid/tid". */
export function trackNames(file: ChromeTraceFile): Map<string, string> {
  const m = new Map<string, string>();
  for (const e of file.traceEvents) {
    if (e.ph !== 'M') continue;
    m.set(e.name === 'process_name' ? String(e.pid) : `${e.pid}/${e.tid}`, String(e.args?.['name']));
  }
  return m;
}
