import type { CharConnection } from '../../../src/machine/chardev.js';
import { QmpError, type JsonObject, type QmpBackend, type RunState } from '../../../src/machine/qmp/index.js';

/** An in-memory connection: what the server writes is collected as lines. */
export class FakeConnection implements CharConnection {
  out = '';
  private dataCb: ((s: string) => void) | undefined;
  private closeCbs: (() => void)[] = [];
  write(text: string): void {
    this.out += text;
  }
  onData(cb: (s: string) => void): void {
    this.dataCb = cb;
  }
  onClose(cb: () => void): void {
    this.closeCbs.push(cb);
  }
  close(): void {
    for (const c of this.closeCbs) c();
  }
  send(text: string): void {
    this.dataCb?.(text);
  }
  /** Lines written since the last call, CRLF checked and stripped. */
  take(): string[] {
    const text = this.out;
    this.out = '';
    if (text === '') return [];
    if (!text.endsWith('\r\n')) throw new Error(`output not CRLF-terminated: ${JSON.stringify(text)}`);
    return text.slice(0, -2).split('\r\n');
  }
}

/** A backend with two devices and a fixed clock, to test the protocol alone. */
export class FakeBackend implements QmpBackend {
  readonly version = { major: 0, minor: 1, micro: 0 };
  readonly packageString = 'viommu-test';
  state: RunState = 'running';
  devices = new Set(['e1']);
  quitCalled = false;
  private sink: ((e: string, d?: JsonObject) => void) | undefined;
  runState(): RunState {
    return this.state;
  }
  stop(): void {
    if (this.state === 'running') this.sink?.('STOP');
    this.state = 'paused';
  }
  cont(): void {
    this.sink?.('RESUME');
    this.state = 'running';
  }
  resets = 0;
  systemReset(): void {
    this.resets++;
    this.sink?.('RESET', { guest: false, reason: 'host-qmp-system-reset' });
  }
  quit(): void {
    this.quitCalled = true;
    this.sink?.('SHUTDOWN', { guest: false, reason: 'host-qmp-quit' });
  }
  queryPci() {
    return [{ bus: 0, devices: [] }];
  }
  deviceAdd(args: JsonObject): void {
    if (args['driver'] !== 'edu') throw new QmpError('GenericError', `'${String(args['driver'])}' is not a valid device model name`);
    this.devices.add(String(args['id']));
  }
  deviceDel(id: string): void {
    if (!this.devices.has(id)) throw new QmpError('DeviceNotFound', `Device '${id}' not found`);
    this.devices.delete(id);
    this.sink?.('DEVICE_DELETED', { device: id, path: `/machine/peripheral/${id}` });
  }
  hmp(line: string): string {
    return line === 'info version' ? '0.1.0\n' : `unknown command: '${line}'\n`;
  }
  now(): number {
    return 1_500_250_000;
  }
  setEventSink(sink: (e: string, d?: JsonObject) => void): void {
    this.sink = sink;
  }
}
