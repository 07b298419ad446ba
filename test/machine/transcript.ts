import { readdirSync, readFileSync } from 'node:fs';
import { parseCmdline } from '../../src/machine/cmdline.js';
import { Machine } from '../../src/machine/machine.js';
import { FakeConnection } from '../../src/machine/fuzz/targets/stream.js';
import { MachineQmpBackend } from '../../src/machine/qmp-backend.js';
import { QmpServer } from '../../src/machine/qmp/server.js';
import { QtestSession } from '../../src/machine/qtest/session.js';
import { repoPath } from '../helpers/paths.js';

/** A recorded qtest session: the QEMU arguments and the exchange, in order. */
export interface Transcript {
  readonly name: string;
  readonly args: string[];
  /** "> cmd" and "< answer" lines. */
  readonly lines: string[];
}

export const TRANSCRIPT_DIR = repoPath('test', 'machine', 'data', 'qtest');

/** Reads a recording from `dir`; `extraArgs` go after the recorded arguments (viommu's compat properties). */
export function loadTranscript(name: string, dir = TRANSCRIPT_DIR, extraArgs: readonly string[] = []): Transcript {
  const text = readFileSync(`${dir}/${name}`, 'utf8');
  let args: string[] = [];
  const lines: string[] = [];
  for (const l of text.split('\n')) {
    const m = /^# args: (.*)$/.exec(l);
    if (m) args = m[1]!.split(' ');
    else if (l.startsWith('< qmp ')) lines.push(`< qmp ${canonicalQmp(l.slice(6))}`);
    else if (l.startsWith('> ') || l.startsWith('< ')) lines.push(l);
  }
  return { name, args: [...args, ...extraArgs], lines };
}

export function transcriptNames(): string[] {
  return readdirSync(TRANSCRIPT_DIR).filter((f) => f.endsWith('.txt')).sort();
}

/** Object keys sorted, timestamp dropped: QEMU and viommu order members differently, which QMP allows. */
function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v === null || typeof v !== 'object') return v;
  return Object.fromEntries(Object.entries(v as Record<string, unknown>).filter(([k]) => k !== 'timestamp')
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, x]) => [k, sortKeys(x)]));
}

export function canonicalQmp(json: string): string {
  return JSON.stringify(sortKeys(JSON.parse(json)));
}

/**
 * Plays the commands against a viommu machine built from the same
 * arguments; returns viommu's exchange. "qmp JSON" commands go to a QMP
 * monitor of the same machine; its replies and events become "< qmp" lines.
 */
export function replay(t: Transcript): string[] {
  const m = Machine.create(parseCmdline(t.args).config);
  const out: string[] = [];
  const push = (text: string) => {
    for (const l of text.split('\n')) if (l) out.push(`< ${l}`);
  };
  m.console = push;
  const s = new QtestSession(m, push);
  s.opened();
  const conn = new FakeConnection();
  new QmpServer(new MachineQmpBackend(m), () => undefined).attach(conn);
  conn.send('{"execute": "qmp_capabilities"}\n');
  const flushQmp = () => {
    for (const chunk of conn.out.splice(0)) {
      for (const l of chunk.split('\n')) if (l.trim() && !l.includes('"QMP"')) out.push(`< qmp ${canonicalQmp(l)}`);
    }
  };
  conn.out.length = 0;
  for (const l of t.lines) {
    if (!l.startsWith('> ')) continue;
    out.push(l);
    if (l.startsWith('> qmp ')) conn.send(l.slice(6) + '\n');
    else s.feed(l.slice(2) + '\n');
    flushQmp();
  }
  return out;
}
