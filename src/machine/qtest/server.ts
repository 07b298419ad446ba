import { createWriteStream, type WriteStream } from 'node:fs';
import { openChardev, type ChardevSpec, type OpenChardev } from '../chardev.js';
import type { Machine } from '../machine.js';
import { QtestSession } from './session.js';

export interface QtestServerOptions {
  /** -qtest-log: a file, "none", or unset for stderr (QEMU's default). */
  readonly log?: string;
  /** Where the default log goes (process.stderr). */
  readonly stderr?: { write(s: string): unknown };
}

export interface QtestServer {
  readonly ready: Promise<void>;
  /** Resolves when a connection that cannot come back ends (stdio EOF, a client socket closing). */
  readonly finished: Promise<void>;
  close(): void;
}

/**
 * The qtest server (QEMU softmmu/qtest.c qtest_server_init) on a character
 * device: stdio, a unix socket server (clients one after another) or a
 * unix socket client (how libqtest starts QEMU). Each connection gets a
 * fresh session on the same machine.
 */
export function startQtestServer(machine: Machine, spec: ChardevSpec, opts: QtestServerOptions = {}): QtestServer {
  let logStream: WriteStream | undefined;
  let log: ((t: string) => void) | undefined;
  if (opts.log === undefined) {
    const err = opts.stderr ?? process.stderr;
    log = (t) => err.write(t);
  } else if (opts.log !== 'none') {
    logStream = createWriteStream(opts.log, { flags: 'w+' });
    log = (t) => logStream!.write(t);
  }
  let finish: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => {
    finish = resolve;
  });
  const reconnects = spec.kind === 'unix' && spec.server;
  const chr: OpenChardev = openChardev(spec, (conn) => {
    const session = new QtestSession(machine, (t) => conn.write(t), log);
    session.opened();
    conn.onData((d) => session.feed(d));
    conn.onClose(() => {
      session.closed();
      if (!reconnects) finish();
    });
  });
  if (spec.kind === 'null') finish();
  return {
    ready: chr.ready,
    finished,
    close() {
      chr.close();
      logStream?.end();
      finish();
    },
  };
}
