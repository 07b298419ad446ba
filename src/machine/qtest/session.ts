import type { AddressSpace } from '../../memory/address-space.js';
import type { InterruptLines } from '../boards/board.js';
import { PseriesBoard } from '../boards/pseries/pseries.js';
import type { RtasCall } from '../boards/pseries/rtas.js';
import type { Machine } from '../machine.js';
import { addr, bswap, hex2nib, i64, QtestArgError, u64, word } from './args.js';

const MAX_LEN = 1n << 28n;
/**
 * Longest request line a session buffers (viommu's cap; QEMU's GString has
 * none). Past it the session answers "ERR line too long" once and drops the
 * rest of that line, so a client that never sends a newline cannot grow the
 * buffer without bound (or past V8's longest string, which would throw).
 * 256 MiB still carries a 128 MiB hex `write` or a 192 MiB `b64write`.
 */
export const QTEST_MAX_LINE = 1 << 28;
/**
 * Largest `read` (viommu's cap; QEMU takes any size): its answer is
 * "OK 0x" and two hex digits a byte, and V8 strings stop at 2^29 - 24
 * characters, so a 2^28-byte read would throw. `b64read` keeps MAX_LEN.
 */
export const QTEST_MAX_HEX_READ = 1 << 27;

/**
 * One qtest connection (QEMU 7.2 softmmu/qtest.c): a line protocol where
 * each request gets one answer ("OK", "OK 0x%016x", "FAIL ...", "ERR ...")
 * and interrupt changes arrive asynchronously as "IRQ raise N" / "IRQ lower
 * N". Memory and port accesses use the target's byte order (tswap), so a
 * big-endian pseries answers readl with the word as its CPU would load it.
 * The machine behaves as under accel=qtest: the virtual clock moves only on
 * clock_step / clock_set, firing timers on the way. Where QEMU asserts on a
 * bad argument, viommu answers "ERR <command>: <problem>" and goes on.
 */
export class QtestSession {
  private inbuf = '';
  private intercepted: InterruptLines | undefined;
  private stopIntercept: (() => void) | undefined;
  private readonly irqLevels = new Map<number, number>();
  /** Dropping the rest of a line that went past maxLine. */
  private discarding = false;

  constructor(
    private readonly machine: Machine,
    private readonly send: (text: string) => void,
    /** The qtest log (-qtest-log): QEMU's "[R +t]" / "[S +t]" lines, time in virtual seconds. */
    private readonly log?: (text: string) => void,
    private readonly maxLine: number = QTEST_MAX_LINE,
  ) {}

  private stamp(): string {
    return (this.machine.clock.now / 1e9).toFixed(6);
  }

  /** CHR_EVENT_OPENED. */
  opened(): void {
    this.irqLevels.clear();
    this.log?.(`[I ${this.stamp()}] OPENED\n`);
  }

  /** CHR_EVENT_CLOSED. */
  closed(): void {
    this.stopIntercept?.();
    this.log?.(`[I +${this.stamp()}] CLOSED\n`);
  }

  /** Bytes from the peer: complete lines are processed in order. */
  feed(chunk: string): void {
    let start = 0;
    for (let nl = chunk.indexOf('\n'); nl >= 0; nl = chunk.indexOf('\n', start)) {
      const piece = chunk.slice(start, nl);
      start = nl + 1;
      if (this.discarding) {
        this.discarding = false;
        continue;
      }
      if (this.inbuf.length + piece.length > this.maxLine) {
        this.inbuf = '';
        this.tooLong();
        continue;
      }
      const line = this.inbuf + piece;
      this.inbuf = '';
      this.process(line.endsWith('\r') ? line.slice(0, -1) : line);
    }
    if (this.discarding) return;
    const rest = chunk.slice(start);
    if (this.inbuf.length + rest.length > this.maxLine) {
      this.inbuf = '';
      this.discarding = true;
      this.tooLong();
      return;
    }
    this.inbuf += rest;
  }

  private tooLong(): void {
    this.reply(`ERR line too long (the limit is ${this.maxLine} bytes)\n`);
  }

  private reply(text: string): void {
    this.log?.(`[S +${this.stamp()}] ${text}`);
    this.send(text);
  }

  /** qtest_send without the log prefix (QEMU's "ERR invalid argument size" path). */
  private raw(text: string): void {
    this.log?.(text);
    this.send(text);
  }

  /** One request line (g_strsplit on single spaces, as QEMU splits). */
  process(line: string): void {
    const words = line.split(' ');
    this.log?.(`[R +${this.stamp()}] ${words.join(' ')}\n`);
    if (line === '') {
      this.reply('ERR empty command\n');
      return;
    }
    try {
      this.dispatch(words);
    } catch (e) {
      if (!(e instanceof QtestArgError)) throw e;
      this.reply(`ERR ${e.message}\n`);
    }
  }

  private get big(): boolean {
    return this.machine.bigEndian;
  }

  /** address_space_read of `size` bytes, then tswap: the value as the target CPU would load it. */
  private readScalar(as: AddressSpace, a: number | bigint, size: number): bigint {
    const buf = new Uint8Array(size);
    as.readBytes(a, buf);
    let v = 0n;
    for (let i = size - 1; i >= 0; i--) v = (v << 8n) | BigInt(buf[i]!);
    return this.big && size > 1 ? bswap(v, size) : v;
  }

  /** tswap, then address_space_write of `size` bytes. */
  private writeScalar(as: AddressSpace, a: number | bigint, size: number, value: bigint): void {
    let v = BigInt.asUintN(size * 8, value);
    if (this.big && size > 1) v = bswap(v, size);
    const buf = new Uint8Array(size);
    for (let i = 0; i < size; i++) buf[i] = Number((v >> BigInt(8 * i)) & 0xffn);
    as.writeBytes(a, buf);
  }

  private dispatch(w: string[]): void {
    const cmd = w[0]!;
    const m = this.machine;
    const sizes: Record<string, number> = { b: 1, w: 2, l: 4, q: 8 };
    if (cmd === 'irq_intercept_in' || cmd === 'irq_intercept_out') return this.intercept(word(w, 1, 'QOM path'));
    if (cmd === 'set_irq_in') return this.setIrqIn(w);
    if (/^out[bwl]$/.test(cmd)) {
      const port = u64(w, 1, 'port');
      const value = u64(w, 2, 'value');
      if (port > 0xffffn) throw new QtestArgError(`${cmd}: port ${port} is above 0xffff`);
      this.writeScalar(m.ioAs, Number(port), sizes[cmd[3]!]!, value);
      return this.reply('OK\n');
    }
    if (/^in[bwl]$/.test(cmd)) {
      const port = u64(w, 1, 'port');
      if (port > 0xffffn) throw new QtestArgError(`${cmd}: port ${port} is above 0xffff`);
      const v = this.readScalar(m.ioAs, Number(port), sizes[cmd[2]!]!);
      return this.reply(`OK 0x${v.toString(16).padStart(4, '0')}\n`);
    }
    if (/^write[bwlq]$/.test(cmd)) {
      const a = u64(w, 1, 'address');
      const value = u64(w, 2, 'value');
      this.writeScalar(m.systemAs, addr(a), sizes[cmd[5]!]!, value);
      return this.reply('OK\n');
    }
    if (/^read[bwlq]$/.test(cmd)) {
      const a = u64(w, 1, 'address');
      const v = this.readScalar(m.systemAs, addr(a), sizes[cmd[4]!]!);
      return this.reply(`OK 0x${v.toString(16).padStart(16, '0')}\n`);
    }
    switch (cmd) {
      case 'read': {
        const a = u64(w, 1, 'address');
        const len = u64(w, 2, 'size');
        if (len === 0n || len > BigInt(QTEST_MAX_HEX_READ)) throw new QtestArgError(`read: bad size ${len}`);
        const buf = new Uint8Array(Number(len));
        m.systemAs.readBytes(addr(a), buf);
        return this.reply(`OK 0x${Buffer.from(buf).toString('hex')}\n`);
      }
      case 'b64read': {
        const a = u64(w, 1, 'address');
        const len = u64(w, 2, 'size');
        if (len > MAX_LEN) throw new QtestArgError(`b64read: bad size ${len}`);
        const buf = new Uint8Array(Number(len));
        m.systemAs.readBytes(addr(a), buf);
        return this.reply(`OK ${Buffer.from(buf).toString('base64')}\n`);
      }
      case 'write': {
        const a = u64(w, 1, 'address');
        const len = u64(w, 2, 'size');
        const data = word(w, 3, 'data');
        if (data.length < 3) return this.raw('ERR invalid argument size\n');
        if (len > MAX_LEN) throw new QtestArgError(`write: bad size ${len}`);
        const buf = new Uint8Array(Number(len));
        for (let i = 0; i < buf.length; i++) {
          if (i * 2 + 4 <= data.length) buf[i] = ((hex2nib(data[i * 2 + 2]) << 4) | hex2nib(data[i * 2 + 3])) & 0xff;
        }
        m.systemAs.writeBytes(addr(a), buf);
        return this.reply('OK\n');
      }
      case 'b64write': {
        const a = u64(w, 1, 'address');
        const len = u64(w, 2, 'size');
        const data = word(w, 3, 'data');
        if (data.length < 3) return this.raw('ERR invalid argument size\n');
        if (len > MAX_LEN) throw new QtestArgError(`b64write: bad size ${len}`);
        const decoded = Buffer.from(data, 'base64');
        if (BigInt(decoded.length) !== len) {
          this.log?.(`[S +${this.stamp()}] b64write: data length mismatch (told ${len}, found ${decoded.length})\n`);
        }
        const buf = new Uint8Array(Number(len));
        buf.set(decoded.subarray(0, buf.length));
        m.systemAs.writeBytes(addr(a), buf);
        return this.reply('OK\n');
      }
      case 'memset': {
        const a = u64(w, 1, 'address');
        const len = u64(w, 2, 'size');
        const pattern = u64(w, 3, 'value');
        if (len > MAX_LEN) throw new QtestArgError(`memset: bad size ${len}`);
        if (len) m.systemAs.writeBytes(addr(a), new Uint8Array(Number(len)).fill(Number(pattern & 0xffn)));
        return this.reply('OK\n');
      }
      case 'endianness':
        return this.reply(`OK ${this.big ? 'big' : 'little'}\n`);
      case 'clock_step': {
        // qtest_clock_warp: with no argument, to the next deadline (none: no move).
        const now = m.clock.now;
        if (w[1] === undefined) {
          const d = m.clock.nextDeadline();
          if (d !== undefined) m.clock.advanceTo(d);
        } else {
          const ns = i64(w, 1, 'nanoseconds');
          if (ns > 0n) m.clock.advanceTo(now + Number(ns));
        }
        return this.reply(`OK ${m.clock.now}\n`);
      }
      case 'clock_set': {
        const ns = i64(w, 1, 'nanoseconds');
        if (ns > BigInt(m.clock.now)) m.clock.advanceTo(Number(ns));
        return this.reply(`OK ${m.clock.now}\n`);
      }
      case 'module_load':
        word(w, 2, 'module name');
        return this.reply('FAIL\n');
      case 'rtas':
        if (m.board instanceof PseriesBoard) return this.rtas(w, m.board);
        break;
    }
    this.reply(`FAIL Unknown command '${cmd}'\n`);
  }

  /** irq_intercept_in / irq_intercept_out on the board's interrupt controller. */
  private intercept(path: string): void {
    const intc = this.machine.board.intc;
    if (!intc.paths.includes(path)) return this.reply('FAIL Unknown device\n');
    if (this.intercepted) return this.reply(this.intercepted === intc ? 'OK\n' : 'FAIL IRQ intercept already enabled\n');
    this.intercepted = intc;
    this.stopIntercept = intc.listen((n, level) => {
      if ((this.irqLevels.get(n) ?? 0) === level) return;
      this.irqLevels.set(n, level);
      this.reply(`IRQ ${level ? 'raise' : 'lower'} ${n}\n`);
    });
    this.reply('OK\n');
  }

  /** set_irq_in PATH NAME NUM LEVEL: drives a controller input. */
  private setIrqIn(w: string[]): void {
    const path = word(w, 1, 'QOM path');
    const name = word(w, 2, 'gpio name');
    const num = Number(i64(w, 3, 'IRQ number'));
    const level = Number(i64(w, 4, 'level'));
    const intc = this.machine.board.intc;
    if (!intc.paths.includes(path)) return this.reply('FAIL Unknown device\n');
    const line = name === 'unnamed-gpio-in' ? intc.lines[num] : undefined;
    if (!line) throw new QtestArgError(`set_irq_in: no input ${name}[${num}] on ${path}`);
    line.set(level);
    this.reply('OK\n');
  }

  /** spapr_qtest_callback: rtas NAME NARGS ARGS NRET RETS; answers H_SUCCESS or H_PARAMETER (as u64). */
  private rtas(w: string[], board: PseriesBoard): void {
    const name = word(w, 1, 'RTAS call name');
    const nargs = Number(u64(w, 2, 'nargs') & 0xffffffffn);
    const args = addr(u64(w, 3, 'args address'));
    const nret = Number(u64(w, 4, 'nret') & 0xffffffffn);
    const rets = addr(u64(w, 5, 'rets address'));
    const token = board.rtas.tokenOf(name);
    if (token === undefined) return this.reply('OK 18446744073709551612\n');
    const as = this.machine.systemAs;
    const at = (base: number | bigint, n: number) => (typeof base === 'bigint' ? base + BigInt(4 * n) : base + 4 * n);
    const ld = (n: number) => Number(this.readScalarBe(as, at(args, n)));
    const call: RtasCall = {
      token, nargs, nret,
      arg: ld,
      argq: (n) => (BigInt(ld(n)) << 32n) | BigInt(ld(n + 1)),
      ret: (n, v) => this.writeScalarBe(as, at(rets, n), v),
    };
    board.rtas.call(call);
    this.reply('OK 0\n');
  }

  /** RTAS buffers are big-endian 32-bit words (rtas_ld / rtas_st). */
  private readScalarBe(as: AddressSpace, a: number | bigint): number {
    return Number(bswap(BigInt(as.read(a, 4).lo >>> 0), 4));
  }
  private writeScalarBe(as: AddressSpace, a: number | bigint, v: number): void {
    as.write(a, 4, Number(bswap(BigInt(v >>> 0), 4)));
  }
}
