import { openChardev, type ChardevSpec, type OpenChardev } from '../chardev.js';
import type { QmpBackend } from './backend.js';
import type { JsonObject } from './json.js';
import { QmpSession } from './session.js';

/** A QMP monitor on one or more character devices; clients one after another on each. */
export class QmpServer {
  private readonly sessions = new Set<QmpSession>();
  private readonly devices: OpenChardev[] = [];

  constructor(private readonly backend: QmpBackend, private readonly onQuit: () => void) {
    backend.setEventSink((event, data) => this.broadcast(event, data));
  }

  /** Opens a chardev; resolves when it listens (or is connected, for a client). */
  async listen(spec: ChardevSpec): Promise<void> {
    const dev = openChardev(spec, (conn) => this.attach(conn));
    this.devices.push(dev);
    await dev.ready;
  }

  /** Attaches a connection directly (tests, in-process clients). */
  attach(conn: import('../chardev.js').CharConnection): QmpSession {
    const s = new QmpSession(conn, this.backend, () => this.onQuit());
    this.sessions.add(s);
    conn.onClose(() => this.sessions.delete(s));
    return s;
  }

  /** {"timestamp": {...}, "event": ..., "data"?: ...} on the virtual clock. */
  broadcast(event: string, data?: JsonObject): void {
    const ns = this.backend.now();
    const msg: JsonObject = { timestamp: { seconds: Math.floor(ns / 1e9), microseconds: Math.floor((ns % 1e9) / 1e3) }, event };
    if (data) msg['data'] = data;
    for (const s of this.sessions) s.event(msg);
  }

  close(): void {
    for (const d of this.devices) d.close();
    this.sessions.clear();
  }
}
