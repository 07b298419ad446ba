import { closest } from '../../base/suggest.js';
import { parseDuration } from './duration.js';
import type { ActionArgs, GuestActions } from './actions.js';
import { parseHeader, type ScriptHeader } from './header.js';
import { parseAssertion, type Assertion } from './assertions-parse.js';
import { isObj, regex, type Fail } from './parse-util.js';

/** A bad script: names the file, the line and the field. */
export class ScriptError extends Error {
  override readonly name = 'ScriptError';
  constructor(readonly file: string, readonly line: number, readonly field: string, readonly problem: string) {
    super(`${file}:${line > 0 ? `${line}:` : ''} ${field ? `${field}: ` : ''}${problem}`);
  }
}

export type Expectation =
  | { readonly type: 'return'; readonly value: unknown }
  | { readonly type: 'error'; readonly errorClass?: string; readonly desc?: string }
  | { readonly type: 'event'; readonly event: string; readonly data?: Readonly<Record<string, unknown>> }
  | { readonly type: 'log'; readonly pattern: RegExp };

interface StepBase {
  readonly line: number;
  /** The line as written, for reports. */
  readonly text: string;
  readonly stopOnFailure: boolean;
  /** A label for the report ("name": "..."). */
  readonly label?: string;
}

export type Step = StepBase & (
  | { readonly kind: 'qmp'; readonly command: Readonly<Record<string, unknown>>; readonly checked: boolean }
  | { readonly kind: 'expect'; readonly expect: Expectation; readonly none: boolean; readonly withinNs: number }
  | { readonly kind: 'guest'; readonly action: string; readonly args: ActionArgs }
  | { readonly kind: 'wait'; readonly ns: number }
  | { readonly kind: 'assert'; readonly assert: Assertion }
);

export interface Script {
  readonly file: string;
  readonly header: ScriptHeader | undefined;
  readonly steps: readonly Step[];
}

const STEP_KEYS = ['execute', 'expect', 'expect_none', 'guest', 'wait', 'assert'] as const;
const COMMON = ['stop_on_failure', 'name'];
const ALLOWED: Readonly<Record<string, readonly string[]>> = {
  execute: ['execute', 'arguments', 'id', ...COMMON],
  expect: ['expect', 'within', ...COMMON],
  expect_none: ['expect_none', 'within', ...COMMON],
  guest: ['guest', ...COMMON],
  wait: ['wait', ...COMMON],
  assert: ['assert', ...COMMON],
};

function parseExpectation(v: unknown, none: boolean, fail: Fail): Expectation {
  const key = none ? 'expect_none' : 'expect';
  if (!isObj(v)) return fail(key, 'expected an object: {"return": ...}, {"error": {...}}, {"event": NAME, "data"?: {...}} or {"log": REGEX}');
  const kinds = ['return', 'error', 'event', 'log'].filter((k) => k in v);
  if (kinds.length !== 1) {
    const near = Object.keys(v).map((k) => closest(k, ['return', 'error', 'event', 'log'])).find(Boolean);
    return fail(key, `needs exactly one of return, error, event, log${near && kinds.length === 0 ? `; did you mean '${near}'?` : ''}`);
  }
  const kind = kinds[0]!;
  const extra = Object.keys(v).filter((k) => k !== kind && !(kind === 'event' && k === 'data'));
  if (extra.length) return fail(`${key}.${extra[0]}`, `unexpected member (a${kind === 'event' ? 'n event expectation takes event and data' : ` ${kind} expectation takes only ${kind}`})`);
  if (none && (kind === 'return' || kind === 'error')) return fail(key, `${kind} cannot be expected not to happen: every command gets a reply (use expect_none with event or log)`);
  if (kind === 'return') return { type: 'return', value: v['return'] };
  if (kind === 'error') {
    const e = v['error'];
    if (!isObj(e)) return fail(`${key}.error`, 'expected an object with "class" and/or "desc"');
    for (const k of Object.keys(e)) if (k !== 'class' && k !== 'desc') return fail(`${key}.error.${k}`, `unexpected member; an error has class and desc`);
    if (e['class'] !== undefined && typeof e['class'] !== 'string') return fail(`${key}.error.class`, 'expected a string such as "GenericError"');
    if (e['desc'] !== undefined && typeof e['desc'] !== 'string') return fail(`${key}.error.desc`, 'expected a string');
    return { type: 'error', ...(e['class'] !== undefined ? { errorClass: e['class'] as string } : {}), ...(e['desc'] !== undefined ? { desc: e['desc'] as string } : {}) };
  }
  if (kind === 'event') {
    if (typeof v['event'] !== 'string' || v['event'] === '') return fail(`${key}.event`, 'expected an event name such as "DEVICE_DELETED"');
    if (v['data'] !== undefined && !isObj(v['data'])) return fail(`${key}.data`, 'expected an object (matched as a subset of the event data)');
    return { type: 'event', event: v['event'], ...(v['data'] !== undefined ? { data: v['data'] as Record<string, unknown> } : {}) };
  }
  return { type: 'log', pattern: regex(v['log'], `${key}.log`, fail) };
}

function parseGuest(o: Record<string, unknown>, actions: GuestActions, fail: Fail): { action: string; args: ActionArgs } {
  const name = o['guest'];
  if (typeof name !== 'string') return fail('guest', 'expected an action name (a string)');
  const action = actions.get(name);
  if (!action) return fail('guest', actions.unknown(name));
  const args: Record<string, string | number | boolean> = {};
  for (const [k, v] of Object.entries(o)) {
    if (k === 'guest' || COMMON.includes(k)) continue;
    const p = action.params[k];
    if (!p) {
      const near = closest(k, Object.keys(action.params));
      return fail(k, `'${name}' takes no parameter '${k}'${near ? `; did you mean '${near}'?` : ''} (it takes: ${Object.keys(action.params).join(', ') || 'nothing'})`);
    }
    const okType = p.type === 'string' ? typeof v === 'string' : p.type === 'boolean' ? typeof v === 'boolean' : typeof v === 'number' && Number.isSafeInteger(v);
    if (!okType) return fail(k, `expected ${p.type === 'integer' ? 'an integer' : `a ${p.type}`}`);
    if (p.choices && !p.choices.includes(v as string)) {
      const near = closest(String(v), p.choices);
      return fail(k, `'${String(v)}' is not one of ${p.choices.join(', ')}${near ? `; did you mean '${near}'?` : ''}`);
    }
    args[k] = v as string | number | boolean;
  }
  for (const [k, p] of Object.entries(action.params)) if (p.required && !(k in args)) return fail(k, `'${name}' needs '${k}' (${p.help})`);
  return { action: name, args };
}

/**
 * Parses a hotplug script: JSON lines, each one object. Blank lines and
 * lines starting with '#' are skipped. An optional first object with
 * "machine" and/or "boot" is the header; every other line is one step
 * (execute, expect, expect_none, guest, wait or assert). Throws
 * ScriptError naming the line and the field.
 */
export function parseScript(text: string, file: string, actions: GuestActions): Script {
  const steps: Step[] = [];
  let header: ScriptHeader | undefined;
  /** Index of the last QMP command step, whose reply `expect` return/error checks. */
  let lastQmp: number | undefined;
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = i + 1;
    const src = lines[i]!.trim();
    if (src === '' || src.startsWith('#')) continue;
    const fail: Fail = (field, problem) => {
      throw new ScriptError(file, line, field, problem);
    };
    let o: unknown;
    try {
      o = JSON.parse(src);
    } catch (e) {
      fail('', `not valid JSON: ${(e as Error).message}`);
    }
    if (!isObj(o)) return fail('', 'each line must be one JSON object');
    const kinds = STEP_KEYS.filter((k) => k in o);
    if (kinds.length === 0 && ('machine' in o || 'boot' in o || 'seed' in o)) {
      if (header || steps.length > 0) fail('machine', 'the header ("machine", "boot") must be the first line');
      header = parseHeader(o, line, fail);
      continue;
    }
    if (kinds.length !== 1) {
      if (kinds.length > 1) fail(kinds[1]!, `a line is one step; found both '${kinds[0]}' and '${kinds[1]}'`);
      const near = Object.keys(o).map((k) => closest(k, [...STEP_KEYS])).find(Boolean);
      fail(Object.keys(o)[0] ?? '', `not a step: expected one of ${STEP_KEYS.join(', ')}${near ? `; did you mean '${near}'?` : ''}`);
    }
    const kind = kinds[0]!;
    if (kind !== 'guest') {
      for (const k of Object.keys(o)) {
        if (ALLOWED[kind]!.includes(k)) continue;
        const near = closest(k, ALLOWED[kind]!);
        fail(k, `unexpected member in ${kind === 'execute' ? 'a QMP command' : `a${kind === 'expect' || kind === 'expect_none' || kind === 'assert' ? 'n' : ''} ${kind} step`}${near ? `; did you mean '${near}'?` : ''}`);
      }
    }
    if (o['stop_on_failure'] !== undefined && typeof o['stop_on_failure'] !== 'boolean') fail('stop_on_failure', 'expected true or false');
    if (o['name'] !== undefined && typeof o['name'] !== 'string') fail('name', 'expected a string');
    const base = {
      line, text: src, stopOnFailure: o['stop_on_failure'] === true,
      ...(typeof o['name'] === 'string' ? { label: o['name'] } : {}),
    };
    if (kind === 'execute') {
      if (typeof o['execute'] !== 'string') fail('execute', 'expected a QMP command name');
      if (o['arguments'] !== undefined && !isObj(o['arguments'])) fail('arguments', 'expected an object');
      const command: Record<string, unknown> = { execute: o['execute'] };
      if (o['arguments'] !== undefined) command['arguments'] = o['arguments'];
      if (o['id'] !== undefined) command['id'] = o['id'];
      lastQmp = steps.length;
      steps.push({ ...base, kind: 'qmp', command, checked: false });
    } else if (kind === 'expect' || kind === 'expect_none') {
      const none = kind === 'expect_none';
      const expect = parseExpectation(o[kind], none, fail);
      let withinNs = 0;
      if (o['within'] !== undefined) {
        if (expect.type === 'return' || expect.type === 'error') fail('within', 'replies come at once; within applies to events and log lines');
        const d = parseDuration(o['within']);
        if (typeof d === 'string') return fail('within', d);
        withinNs = d;
      }
      if (expect.type === 'return' || expect.type === 'error') {
        const at = lastQmp ?? -1;
        const q = steps[at];
        if (q?.kind !== 'qmp') return fail(kind, `an expected ${expect.type} must follow a QMP command ({"execute": ...})`);
        if (q.checked) fail(kind, `the reply to the command on line ${q.line} is already checked`);
        steps[at] = { ...q, checked: true };
      }
      steps.push({ ...base, kind: 'expect', expect, none, withinNs });
    } else if (kind === 'guest') {
      steps.push({ ...base, kind: 'guest', ...parseGuest(o, actions, fail) });
    } else if (kind === 'wait') {
      const d = parseDuration(o['wait']);
      if (typeof d === 'string') return fail('wait', d);
      steps.push({ ...base, kind: 'wait', ns: d });
    } else {
      steps.push({ ...base, kind: 'assert', assert: parseAssertion(o['assert'], fail) });
    }
  }
  return { file, header, steps };
}
