import { formatTime } from './duration.js';
import type { HotplugRun } from './run.js';
import type { StepRecord } from './runner.js';

/** A YAML scalar: one-line strings double-quoted (JSON is valid YAML), several lines as a block. */
function yaml(key: string, value: string, indent: string): string[] {
  if (!value.includes('\n')) return [`${indent}${key}: ${JSON.stringify(value)}`];
  return [`${indent}${key}: |-`, ...value.split('\n').map((l) => `${indent}  ${l}`)];
}

function diagnostics(r: StepRecord): string[] {
  const ind = '  ';
  const out = [`${ind}---`, `${ind}line: ${r.line}`, ...yaml('step', r.step, ind), ...yaml('at', formatTime(r.time), ind)];
  if (r.expected !== undefined) out.push(...yaml('expected', r.expected, ind));
  out.push(...yaml('got', r.got ?? r.detail, ind));
  if (r.log && r.log.length) out.push(`${ind}log:`, ...r.log.map((l) => `${ind}  - ${JSON.stringify(l)}`));
  out.push(`${ind}...`);
  return out;
}

/**
 * TAP version 13: one test point per expectation and assertion, and per
 * failed step (with a YAML block: line, step, time, expected, got, the log
 * lines of that step), comments for the other steps, the plan at the end,
 * then "# N passed, M failed".
 */
export function formatTap(run: HotplugRun, withLog = false): string {
  const out = ['TAP version 13', `# viommu hotplug ${run.script} (seed ${run.seed})`, `# machine: ${run.machine}`];
  let n = 0;
  for (const r of run.records) {
    if (r.outcome === 'skipped') {
      out.push(`# line ${r.line}: skipped (${r.detail})`);
      continue;
    }
    if (!r.test) {
      out.push(`# line ${r.line} [${formatTime(r.time)}] ${r.description}: ${r.detail}`);
      continue;
    }
    n++;
    // A '#' in a description would start a TAP directive: escape it (TAP 13).
    out.push(`${r.outcome === 'pass' ? 'ok' : 'not ok'} ${n} - line ${r.line}: ${r.description.replace(/#/g, '\\#')}`);
    if (r.outcome === 'fail') out.push(...diagnostics(r));
  }
  if (run.skipped) out.push(`# stopped: ${run.skipped} step${run.skipped > 1 ? 's' : ''} not run (stop_on_failure)`);
  if (withLog) out.push('# log:', ...run.log.map((l) => `#   ${l}`));
  out.push(`1..${n}`, `# ${run.passed} passed, ${run.failed} failed`);
  return `${out.join('\n')}\n`;
}

/** The machine-readable log: every step with its time (ns), outcome and detail, and the totals. */
export function formatJson(run: HotplugRun, withLog = false): string {
  return `${JSON.stringify({
    script: run.script, machine: run.machine, seed: run.seed,
    steps: run.records,
    summary: { tests: run.tests, passed: run.passed, failed: run.failed, skipped: run.skipped },
    ...(withLog ? { log: run.log } : {}),
  }, null, 2)}\n`;
}
