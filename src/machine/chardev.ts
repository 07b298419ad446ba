import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { existsSync, unlinkSync } from 'node:fs';
import { ConfigError } from '../base/config-error.js';

/**
 * Character devices as QEMU's -chardev / -qmp / -qtest take them
 * (chardev/char-socket.c, char-stdio.c): `stdio`, `unix:PATH[,server=on][,wait=off]`
 * and `-chardev socket,id=ID,path=PATH[,server=on][,wait=off]`. A unix
 * socket without server=on is a client that connects to PATH (how libqtest
 * starts QEMU). A server accepts one client at a time, one after another.
 */
export type ChardevSpec =
  | { kind: 'stdio' }
  | { kind: 'unix'; path: string; server: boolean; wait: boolean }
  | { kind: 'null' };

/** One connected peer. Data arrives in chunks; protocols do their own framing. */
export interface CharConnection {
  write(text: string): void;
  onData(cb: (chunk: string) => void): void;
  onClose(cb: () => void): void;
  close(): void;
}

function bool(field: string, v: string | undefined, dflt: boolean): boolean {
  if (v === undefined) return dflt;
  if (v === 'on' || v === 'yes' || v === 'true' || v === '') return true;
  if (v === 'off' || v === 'no' || v === 'false') return false;
  throw new ConfigError(field, `'${v}' is not a boolean`, ['on', 'off']);
}

/** Parses "a=b,c=d" (QEMU option syntax, ",," escapes a comma) into ordered pairs. */
export function parseOpts(text: string): [string, string | undefined][] {
  const out: [string, string | undefined][] = [];
  let cur = '';
  const parts: string[] = [];
  for (let i = 0; i < text.length; i++) {
    if (text[i] === ',' && text[i + 1] === ',') {
      cur += ',';
      i++;
    } else if (text[i] === ',') {
      parts.push(cur);
      cur = '';
    } else cur += text[i];
  }
  parts.push(cur);
  for (const p of parts) {
    const eq = p.indexOf('=');
    out.push(eq < 0 ? [p, undefined] : [p.slice(0, eq), p.slice(eq + 1)]);
  }
  return out;
}

/** The short form used by -qmp/-qtest/-serial: "stdio", "unix:PATH,...", "none". */
export function parseChardevShort(field: string, text: string): ChardevSpec {
  if (text === 'stdio') return { kind: 'stdio' };
  if (text === 'none' || text === 'null') return { kind: 'null' };
  if (text.startsWith('unix:')) {
    const opts = parseOpts(text.slice(5));
    const path = opts[0]![0];
    const m = new Map(opts.slice(1));
    for (const k of m.keys()) {
      if (k !== 'server' && k !== 'wait' && k !== 'nowait') throw new ConfigError(field, `unknown socket option '${k}'`, ['server', 'wait']);
    }
    const server = m.has('server') ? bool(`${field}.server`, m.get('server'), true) : false;
    const wait = m.has('nowait') ? false : bool(`${field}.wait`, m.get('wait'), true);
    if (!path) throw new ConfigError(field, 'unix socket needs a path');
    return { kind: 'unix', path, server, wait };
  }
  throw new ConfigError(field, `unsupported character device '${text}'`, ['stdio', 'unix:PATH[,server=on,wait=off]', 'none']);
}

/** -chardev BACKEND,id=ID,...: returns the id and the spec. */
export function parseChardevOption(text: string): { id: string; spec: ChardevSpec } {
  const opts = parseOpts(text);
  const backend = opts[0]![0];
  const m = new Map(opts.slice(1));
  const id = m.get('id');
  if (!id) throw new ConfigError('-chardev', "parameter 'id' is missing");
  if (backend === 'stdio') return { id, spec: { kind: 'stdio' } };
  if (backend === 'null') return { id, spec: { kind: 'null' } };
  if (backend === 'socket') {
    const path = m.get('path');
    if (!path) throw new ConfigError(`-chardev ${id}`, "socket chardev needs 'path' (only unix sockets are supported)");
    const server = m.has('server') ? bool(`-chardev ${id}.server`, m.get('server'), true) : false;
    const wait = m.has('nowait') ? false : bool(`-chardev ${id}.wait`, m.get('wait'), true);
    return { id, spec: { kind: 'unix', path, server, wait } };
  }
  throw new ConfigError('-chardev', `unsupported backend '${backend}'`, ['stdio', 'socket', 'null']);
}

function socketConnection(sock: Socket): CharConnection {
  sock.setEncoding('utf8');
  return {
    write: (t) => {
      if (!sock.destroyed) sock.write(t);
    },
    onData: (cb) => sock.on('data', (d: string) => cb(d)),
    onClose: (cb) => sock.on('close', cb),
    close: () => sock.end(),
  };
}

function stdioConnection(): CharConnection {
  process.stdin.setEncoding('utf8');
  return {
    write: (t) => process.stdout.write(t),
    onData: (cb) => process.stdin.on('data', (d: string) => cb(d)),
    onClose: (cb) => process.stdin.on('end', cb),
    close: () => process.stdin.pause(),
  };
}

/** An opened character device; close() stops listening and drops the peer. */
export interface OpenChardev {
  /** Resolves once the device is ready (server listening, client connected). */
  readonly ready: Promise<void>;
  close(): void;
}

/**
 * Opens a character device and hands every connection to `onConnection`.
 * Servers accept clients one after another; a client connects once.
 */
export function openChardev(spec: ChardevSpec, onConnection: (c: CharConnection) => void): OpenChardev {
  if (spec.kind === 'null') return { ready: Promise.resolve(), close: () => undefined };
  if (spec.kind === 'stdio') {
    onConnection(stdioConnection());
    return { ready: Promise.resolve(), close: () => process.stdin.pause() };
  }
  if (!spec.server) {
    const sock = createConnection(spec.path);
    const ready = new Promise<void>((resolve, reject) => {
      sock.once('connect', () => resolve());
      sock.once('error', (e) => reject(new ConfigError('chardev', `cannot connect to '${spec.path}': ${e.message}`)));
    });
    void ready.then(() => onConnection(socketConnection(sock)), () => undefined);
    return { ready, close: () => sock.destroy() };
  }
  let active: Socket | undefined;
  const server: Server = createServer((sock) => {
    if (active && !active.destroyed) {
      // QEMU's socket chardev serves one client at a time.
      sock.destroy();
      return;
    }
    active = sock;
    sock.on('close', () => {
      if (active === sock) active = undefined;
    });
    onConnection(socketConnection(sock));
  });
  if (existsSync(spec.path)) unlinkSync(spec.path);
  const ready = new Promise<void>((resolve, reject) => {
    server.once('error', (e) => reject(new ConfigError('chardev', `cannot listen on '${spec.path}': ${e.message}`)));
    server.listen(spec.path, () => resolve());
  });
  return {
    ready,
    close: () => {
      active?.destroy();
      server.close();
      if (existsSync(spec.path)) unlinkSync(spec.path);
    },
  };
}
