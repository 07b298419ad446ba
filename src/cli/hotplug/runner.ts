import type { JsonObject } from '../../machine/qmp/json.js';
import type { GuestActions } from './actions.js';
import { checkAssertion, describeAssertion, type Verdict } from './assertions.js';
import { formatDuration, formatTime } from './duration.js';
import { mismatch, show } from './match.js';
import type { ReceivedEvent } from './qmp-client.js';
import type { Expectation, Step } from './script.js';
import type { HotplugSession } from './session.js';

export type Outcome = 'pass' | 'fail' | 'done' | 'skipped';

/** What one step did: the --json log entry, and a TAP point when `test`. */
export interface StepRecord {
  readonly line: number;
  /** Virtual time when the step started and ended, ns. */
  readonly time: number;
  readonly end: number;
  readonly kind: Step['kind'];
  /** The step as written. */
  readonly step: string;
  readonly description: string;
  /** Expectations and assertions are test points; other steps only when they fail. */
  readonly test: boolean;
  readonly outcome: Outcome;
  readonly detail: string;
  readonly expected?: string;
  readonly got?: string;
  /** Log lines the step produced (kept for failures). */
  readonly log?: readonly string[];
}

const MAX_LOG = 30;
/** The script's steps in traces (--trace): one span per step, from its start to its end in virtual time. */
const HOTPLUG_TRACK = { group: 'hotplug', track: 'script' } as const;

function describeExpect(e: Expectation, none: boolean, withinNs: number): string {
  const within = withinNs > 0 ? ` within ${formatDuration(withinNs)}` : '';
  switch (e.type) {
    case 'return':
      return `expect return ${show(e.value)}`;
    case 'error':
      return `expect error${e.errorClass ? ` ${e.errorClass}` : ''}${e.desc !== undefined ? ` "${e.desc}"` : ''}`;
    case 'event':
      return `expect ${none ? 'no ' : ''}event ${e.event}${e.data ? ` ${show(e.data)}` : ''}${within}`;
    case 'log':
      return `expect ${none ? 'no ' : ''}log /${e.pattern.source}/${within}`;
  }
}

function eventText(e: ReceivedEvent): string {
  return `${e.event}${e.data ? ` ${show(e.data)}` : ''} at ${formatTime(e.time)}`;
}

/**
 * Runs a parsed script's steps against a session, in order, and returns a
 * record per step. A failing step does not stop the run unless it says
 * "stop_on_failure": true; the steps after it are then recorded as
 * skipped.
 */
export class ScriptRunner {
  private lastReply: { value: JsonObject; text: string } | undefined;
  private logCursor: number;

  constructor(private readonly s: HotplugSession, private readonly actions: GuestActions) {
    this.logCursor = s.machine.log.lines.length;
  }

  run(steps: readonly Step[]): StepRecord[] {
    const out: StepRecord[] = [];
    let stopped = false;
    for (const step of steps) {
      if (stopped) {
        out.push({ line: step.line, time: this.s.now, end: this.s.now, kind: step.kind, step: step.text, description: this.describe(step), test: false, outcome: 'skipped', detail: 'not run: an earlier step failed with stop_on_failure' });
        continue;
      }
      const time = this.s.now;
      const logFrom = this.s.machine.log.lines.length;
      const tracer = this.s.machine.mem.tracer;
      const traceName = tracer.on ? `${step.kind}: ${this.describe(step)}` : '';
      if (tracer.on) tracer.begin(HOTPLUG_TRACK, 'hotplug', traceName, { line: step.line });
      let r: { test: boolean; ok: boolean; detail: string; expected?: string; got?: string };
      let crashed = false;
      try {
        r = this.exec(step);
      } catch (e) {
        crashed = true;
        r = { test: true, ok: false, detail: `internal error: ${e instanceof Error ? e.message : String(e)}` };
      }
      const fail = !r.ok;
      if (tracer.on) tracer.end(HOTPLUG_TRACK, 'hotplug', traceName, { outcome: fail ? 'fail' : r.test ? 'pass' : 'done' });
      out.push({
        line: step.line, time, end: this.s.now, kind: step.kind, step: step.text, description: this.describe(step),
        test: r.test || fail, outcome: fail ? 'fail' : r.test ? 'pass' : 'done', detail: r.detail,
        ...(r.expected !== undefined ? { expected: r.expected } : {}), ...(r.got !== undefined ? { got: r.got } : {}),
        ...(fail ? { log: this.s.logLines(logFrom).slice(-MAX_LOG) } : {}),
      });
      if (fail && (step.stopOnFailure || crashed)) stopped = true;
    }
    return out;
  }

  describe(step: Step): string {
    if (step.label) return step.label;
    switch (step.kind) {
      case 'qmp':
        return `${step.command['execute'] as string}${step.command['arguments'] ? ` ${show(step.command['arguments'])}` : ''}`;
      case 'expect':
        return describeExpect(step.expect, step.none, step.withinNs);
      case 'guest':
        return `guest ${step.action}${Object.entries(step.args).map(([k, v]) => ` ${k}=${String(v)}`).join('')}`;
      case 'wait':
        return `wait ${formatDuration(step.ns)}`;
      case 'assert':
        return describeAssertion(step.assert);
    }
  }

  private exec(step: Step): { test: boolean; ok: boolean; detail: string; expected?: string; got?: string } {
    const s = this.s;
    switch (step.kind) {
      case 'qmp': {
        const r = s.qmp.execute(step.command);
        this.lastReply = r;
        s.runGuest();
        const err = r.value['error'];
        if (err !== undefined && !step.checked) {
          return { test: true, ok: false, detail: `the command failed: ${r.text}`, expected: 'a return (add an {"expect": {"error": ...}} line if the error is intended)', got: r.text };
        }
        return { test: false, ok: true, detail: r.text };
      }
      case 'wait':
        s.advance(s.now + step.ns);
        return { test: false, ok: true, detail: `now ${formatTime(s.now)}` };
      case 'guest': {
        const a = this.actions.get(step.action)!;
        const r = a.run(s, step.args);
        s.runGuest();
        return { test: false, ok: r.ok, detail: r.detail, ...(r.expected !== undefined ? { expected: r.expected } : {}), ...(r.ok ? {} : { got: r.detail }) };
      }
      case 'assert': {
        const v: Verdict = checkAssertion(s, step.assert);
        return { test: true, ...v };
      }
      case 'expect':
        return { test: true, ...this.expect(step.expect, step.none, step.withinNs) };
    }
  }

  private expect(e: Expectation, none: boolean, withinNs: number): Verdict {
    const s = this.s;
    const want = describeExpect(e, none, withinNs).replace(/^expect /, '');
    if (e.type === 'return' || e.type === 'error') {
      const reply = this.lastReply;
      if (!reply) return { ok: false, detail: 'no reply to check', expected: want, got: 'no command was sent' };
      const v = reply.value;
      if (e.type === 'return') {
        if (!('return' in v)) return { ok: false, detail: `the command failed: ${reply.text}`, expected: want, got: reply.text };
        const m = mismatch(e.value, v['return'], 'return');
        return m ? { ok: false, detail: m, expected: want, got: reply.text } : { ok: true, detail: reply.text };
      }
      const err = v['error'];
      if (err === undefined || typeof err !== 'object' || err === null || Array.isArray(err)) return { ok: false, detail: `the command succeeded: ${reply.text}`, expected: want, got: reply.text };
      const m = mismatch({ ...(e.errorClass ? { class: e.errorClass } : {}), ...(e.desc !== undefined ? { desc: e.desc } : {}) }, err, 'error');
      return m ? { ok: false, detail: m, expected: want, got: reply.text } : { ok: true, detail: reply.text };
    }
    const deadline = s.now + withinNs;
    if (e.type === 'event') {
      const from = none ? s.qmp.events.length : 0;
      const matches = (x: ReceivedEvent): boolean => !x.consumed && x.event === e.event && (!e.data || mismatch(e.data, x.data ?? {}) === undefined);
      const find = (): ReceivedEvent | undefined => s.qmp.events.slice(from).find(matches);
      s.advance(deadline, () => find() !== undefined);
      const hit = find();
      if (none) {
        return hit ? { ok: false, detail: `${e.event} arrived at ${formatTime(hit.time)}`, expected: want, got: eventText(hit) }
          : { ok: true, detail: `no ${e.event} by ${formatTime(s.now)}` };
      }
      if (hit) {
        hit.consumed = true;
        return { ok: true, detail: eventText(hit) };
      }
      const seen = s.qmp.events.filter((x) => !x.consumed).map(eventText);
      const detail = `no ${e.event} event${e.data ? ` matching ${show(e.data)}` : ''} by ${formatTime(s.now)}`;
      return { ok: false, detail, expected: want, got: `${detail}; ${seen.length ? `events not yet matched: ${seen.join('; ')}` : 'no other event arrived'}` };
    }
    const from = none ? s.machine.log.lines.length : this.logCursor;
    const findLine = (): number => {
      const lines = s.logLines(from);
      const i = lines.findIndex((l) => e.pattern.test(l));
      return i < 0 ? -1 : from + i;
    };
    s.advance(deadline, () => findLine() >= 0);
    const at = findLine();
    const text = at >= 0 ? s.logLines(at)[0]! : '';
    if (none) return at >= 0 ? { ok: false, detail: `logged: ${text}`, expected: want, got: text } : { ok: true, detail: `no such line by ${formatTime(s.now)}` };
    if (at >= 0) {
      this.logCursor = at + 1;
      return { ok: true, detail: text };
    }
    return { ok: false, detail: `no log line matches /${e.pattern.source}/ by ${formatTime(s.now)}`, expected: want, got: s.logLines(from).slice(-10).join('\n') || 'no new log lines' };
  }
}
