import type { CharConnection } from '../../machine/chardev.js';
import { isObject, JsonStream, type JsonObject } from '../../machine/qmp/json.js';

/** An event as the client received it. */
export interface ReceivedEvent {
  readonly event: string;
  readonly data: JsonObject | undefined;
  /** Virtual time of the event (its QMP timestamp), ns. */
  readonly time: number;
  /** The line as QMP sent it. */
  readonly text: string;
  consumed: boolean;
}

/**
 * A QMP client inside the process: the connection the server writes to
 * (QmpServer.attach), parsing what it says with QMP's own JSON reader, so
 * scripts see exactly what a socket client would. Replies are returned by
 * execute(); events are kept in arrival order for expectations.
 */
export class InProcessQmp implements CharConnection {
  readonly events: ReceivedEvent[] = [];
  greeting: JsonObject | undefined;
  private readonly stream = new JsonStream();
  private replies: { value: JsonObject; text: string }[] = [];
  private dataCb: ((chunk: string) => void) | undefined;
  private readonly closeCbs: (() => void)[] = [];

  write(text: string): void {
    for (const line of text.split('\r\n')) {
      if (line === '') continue;
      for (const item of this.stream.feed(`${line}\n`)) {
        if (!item.ok || !isObject(item.value)) continue;
        const v = item.value;
        if (typeof v['event'] === 'string') {
          const ts = v['timestamp'];
          const time = isObject(ts) ? Number(ts['seconds']) * 1e9 + Number(ts['microseconds']) * 1e3 : 0;
          this.events.push({ event: v['event'], data: isObject(v['data']) ? v['data'] : undefined, time, text: line, consumed: false });
        } else if ('QMP' in v) this.greeting = v;
        else this.replies.push({ value: v, text: line });
      }
    }
  }
  onData(cb: (chunk: string) => void): void {
    this.dataCb = cb;
  }
  onClose(cb: () => void): void {
    this.closeCbs.push(cb);
  }
  close(): void {
    for (const c of this.closeCbs) c();
  }

  /** Sends one command (as JSON text) and returns the reply the server wrote for it. */
  execute(command: Readonly<Record<string, unknown>>): { value: JsonObject; text: string } {
    this.replies = [];
    this.dataCb?.(`${JSON.stringify(command)}\n`);
    const r = this.replies.at(-1);
    return r ?? { value: { error: { class: 'GenericError', desc: 'no reply from the QMP server' } }, text: '' };
  }
}
