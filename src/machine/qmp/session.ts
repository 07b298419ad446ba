import type { CharConnection } from '../chardev.js';
import type { QmpBackend } from './backend.js';
import { checkArgs, checkCapabilities, QMP_COMMANDS } from './commands.js';
import { QmpError } from './errors.js';
import { isObject, JsonStream, toQmpJson, type JsonObject, type JsonValue } from './json.js';

const ENVELOPE_KEYS = new Set(['execute', 'arguments', 'id']);

/**
 * One QMP client connection (monitor/qmp.c): greeting, capabilities
 * negotiation, commands in order, events once negotiated. Garbage gets an
 * error reply and the connection stays usable.
 */
export class QmpSession {
  private readonly stream = new JsonStream();
  negotiated = false;
  closed = false;
  /**
   * DEVICE_DELETED and RESET raised while this session's command runs wait
   * for the reply: QEMU sends the first from device_finalize, after an RCU
   * grace period, and resets from the main loop after a reset request, so a
   * device_del that removes at once, or system_reset, answers first. Other
   * events (STOP, RESUME, SHUTDOWN) go out at once, before the reply, as
   * QEMU's do.
   */
  private held: JsonObject[] | undefined;

  constructor(private readonly conn: CharConnection, private readonly backend: QmpBackend,
    private readonly afterQuit: () => void) {
    conn.onData((chunk) => this.receive(chunk));
    conn.onClose(() => {
      this.closed = true;
    });
    this.send({
      QMP: {
        version: { qemu: { micro: backend.version.micro, minor: backend.version.minor, major: backend.version.major }, package: backend.packageString },
        capabilities: [],
      },
    });
  }

  send(msg: JsonObject): void {
    if (!this.closed) this.conn.write(`${toQmpJson(msg)}\r\n`);
  }

  /** Events go only to negotiated sessions (QEMU drops them before). */
  event(msg: JsonObject): void {
    if (!this.negotiated) return;
    if (this.held && (msg['event'] === 'DEVICE_DELETED' || msg['event'] === 'RESET')) this.held.push(msg);
    else this.send(msg);
  }

  receive(chunk: string): void {
    for (const item of this.stream.feed(chunk)) {
      if (this.closed) return;
      if (!item.ok) this.send(errorReply('GenericError', item.error));
      else this.handle(item.value);
    }
  }

  private handle(msg: JsonValue): void {
    if (!isObject(msg)) {
      // One reply per top-level value: a megabyte of `""` is a million replies, so the line is built once.
      if (!this.closed) this.conn.write(NOT_AN_OBJECT_LINE);
      return;
    }
    const id = msg['id'];
    const reply = (body: JsonObject): void => this.send(id === undefined ? body : { ...body, id });
    for (const k of Object.keys(msg)) {
      if (!ENVELOPE_KEYS.has(k)) {
        reply(errorReply('GenericError', `QMP input member '${k}' is unexpected`));
        return;
      }
    }
    const name = msg['execute'];
    if (typeof name !== 'string') {
      reply(errorReply('GenericError', name === undefined ? "QMP input lacks member 'execute'" : "QMP input member 'execute' must be a string"));
      return;
    }
    const args = msg['arguments'] ?? {};
    if (!isObject(args)) {
      reply(errorReply('GenericError', "QMP input member 'arguments' must be an object"));
      return;
    }
    try {
      if (name === 'qmp_capabilities') {
        if (this.negotiated) throw new QmpError('CommandNotFound', 'Capabilities negotiation is already complete, command ignored');
        checkCapabilities(args);
        this.negotiated = true;
        reply({ return: {} });
        return;
      }
      if (!this.negotiated) throw new QmpError('CommandNotFound', "Expecting capabilities negotiation with 'qmp_capabilities'");
      const cmd = QMP_COMMANDS[name];
      if (!cmd) throw new QmpError('CommandNotFound', `The command ${name} has not been found`);
      checkArgs(cmd, args);
      this.held = [];
      const ret = cmd.run(this.backend, args);
      reply({ return: ret });
      this.releaseEvents();
      if (name === 'quit') this.afterQuit();
    } catch (e) {
      if (e instanceof QmpError) reply(errorReply(e.errorClass, e.desc));
      else reply(errorReply('GenericError', e instanceof Error ? e.message : String(e)));
      this.releaseEvents();
    }
  }

  private releaseEvents(): void {
    const held = this.held ?? [];
    this.held = undefined;
    for (const m of held) this.send(m);
  }
}

function errorReply(cls: string, desc: string): JsonObject {
  return { error: { class: cls, desc } };
}

/** The reply to a top-level value that is not an object (qmp_dispatch's "QMP input must be a JSON object"). */
const NOT_AN_OBJECT_LINE = `${toQmpJson(errorReply('GenericError', 'QMP input must be a JSON object'))}\r\n`;
