import { readdirSync, readFileSync } from 'node:fs';
import { parseCmdline } from '../../src/machine/cmdline.js';
import { Machine } from '../../src/machine/machine.js';
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
    else if (l.startsWith('> ') || l.startsWith('< ')) lines.push(l);
  }
  return { name, args: [...args, ...extraArgs], lines };
}

export function transcriptNames(): string[] {
  return readdirSync(TRANSCRIPT_DIR).filter((f) => f.endsWith('.txt')).sort();
}

/** Plays the commands against a viommu machine built from the same arguments; returns viommu's exchange. */
export function replay(t: Transcript): string[] {
  const m = Machine.create(parseCmdline(t.args).config);
  const out: string[] = [];
  const push = (text: string) => {
    for (const l of text.split('\n')) if (l) out.push(`< ${l}`);
  };
  m.console = push;
  const s = new QtestSession(m, push);
  s.opened();
  for (const l of t.lines) {
    if (!l.startsWith('> ')) continue;
    out.push(l);
    s.feed(l.slice(2) + '\n');
  }
  return out;
}
