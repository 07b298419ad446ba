import { QtestSession } from '../../qtest/session.js';
import { OracleFailure } from '../harness.js';
import { hex64, num, type FuzzRng } from '../rng.js';
import type { FuzzTarget, Op, Variant } from '../types.js';
import { machineTarget } from './machine-target.js';
import { FakeConnection, garbage, isInternalError } from './stream.js';

const VARIANTS: readonly Variant[] = [
  { name: 'q35-vtd', args: ['-M', 'q35', '-device', 'intel-iommu', '-device', 'edu'] },
  { name: 'virt-smmuv3', args: ['-M', 'virt,iommu=smmuv3', '-device', 'edu'] },
  { name: 'pseries', args: ['-M', 'pseries', '-device', 'edu'] },
];
const WORDS = ['readb', 'readw', 'readl', 'readq', 'writeb', 'writew', 'writel', 'writeq', 'read', 'write', 'b64read', 'b64write', 'memset',
  'outb', 'outw', 'outl', 'inb', 'inw', 'inl', 'clock_step', 'clock_set', 'endianness', 'irq_intercept_in', 'irq_intercept_out',
  'set_irq_in', 'rtas', 'module_load', 'bogus', ''];
const ADDRS = [0n, 0x1000n, 0xfed90000n, 0x09050000n, 0xb0000000n, 0xfee00000n, 0xffff_ffff_ffff_fff8n, 1n << 52n];
const PATHS = ['/machine/ioapic', '/machine/unattached/device[0]', '/machine/gic', 'nope'];
const RTAS = ['ibm,query-pe-dma-window', 'ibm,create-pe-dma-window', 'ibm,read-pci-config', 'nope'];
/** Sizes a read/memset/write asks for: bounded so a run stays short (the server's own caps are unit-tested). */
const SIZES = [0n, 1n, 8n, 4096n, 0x10000n, 0xffff_ffff_ffff_ffffn, 1n << 28n, (1n << 28n) + 1n];

function num64(rng: FuzzRng, near: bigint): string {
  const c = rng.below(4);
  if (c === 0) return String(rng.u32());
  if (c === 1) return `-${rng.below(100)}`;
  return hex64(rng.chance(0.5) ? near : rng.value64(near));
}

function randomLine(rng: FuzzRng): string {
  const w = rng.pick(WORDS);
  const a = () => num64(rng, rng.pick(ADDRS));
  let size = rng.pick(SIZES);
  if (size > 0x10000n && size < 1n << 64n - 1n && (w === 'read' || w === 'b64read' || w === 'memset')) size = rng.chance(0.05) ? size : 0x1000n;
  switch (w) {
    case 'write': return `write ${a()} ${size > 64n ? 16 : size} 0x${'ab'.repeat(rng.below(20))}`;
    case 'b64write': return `b64write ${a()} ${rng.below(32)} ${Buffer.from(garbage(rng, rng.below(24))).toString('base64')}`;
    case 'read': case 'b64read': return `${w} ${a()} ${size}`;
    case 'memset': return `memset ${a()} ${size} ${rng.below(256)}`;
    case 'set_irq_in': return `set_irq_in ${rng.pick(PATHS)} unnamed-gpio-in ${rng.value32(5)} ${rng.below(3)}`;
    case 'irq_intercept_in': case 'irq_intercept_out': return `${w} ${rng.pick(PATHS)}`;
    case 'rtas': return `rtas ${rng.pick(RTAS)} ${rng.below(8)} ${a()} ${rng.below(8)} ${a()}`;
    case 'clock_step': return rng.chance(0.5) ? 'clock_step' : `clock_step ${rng.below(5_000_000)}`;
    case 'clock_set': return `clock_set ${rng.below(1e9)}`;
    default: {
      const parts = [w, a(), a()].slice(0, 1 + rng.below(4));
      return rng.chance(0.1) ? parts.join('  ') : parts.join(' ');
    }
  }
}

function randomQtestOp(rng: FuzzRng): Op {
  const c = rng.below(12);
  if (c < 7) return { k: 'line', s: randomLine(rng) };
  if (c < 9) return { k: 'raw', s: garbage(rng, 1 + rng.below(48)) };
  if (c < 10) return { k: 'huge', n: rng.pick([1 << 10, 1 << 16, 1 << 20, 3 << 20]), nl: rng.chance(0.5) };
  return { k: 'close', partial: rng.chance(0.5) ? 'read' : '' };
}

interface QtestState {
  conn: FakeConnection;
  session: QtestSession;
}

/** The qtest server's sessions over in-process connections: every command with hostile arguments, garbage, huge lines, half-open connections. */
export function qtestTarget(): FuzzTarget {
  return machineTarget<QtestState>({
    name: 'qtest',
    summary: 'qtest line protocol: every command with hostile arguments, garbage, huge lines, half-open connections',
    variants: VARIANTS,
    maxOps: 48,
    randomOp: (rng) => randomQtestOp(rng),
    mutateOp: (rng, op) => (op.k === 'line' ? { ...op, s: randomLine(rng) } : undefined),
    setup: (ctx) => {
      const conn = new FakeConnection();
      const session = new QtestSession(ctx.machine, (t) => conn.write(t));
      session.opened();
      return { conn, session };
    },
    exec: (ctx, s, op) => {
      const before = ctx.machine.clock.now;
      switch (op.k) {
        case 'line': s.session.feed(`${String(op['s'])}\n`); break;
        case 'raw': s.session.feed(String(op['s'])); break;
        case 'huge': s.session.feed(`readl ${'9'.repeat(Math.min(num(op['n']), 4 << 20))}${op['nl'] ? '\n' : ''}`); break;
        case 'close': {
          s.session.feed(String(op['partial'] ?? ''));
          s.session.closed();
          const conn = new FakeConnection();
          s.conn = conn;
          s.session = new QtestSession(ctx.machine, (t) => conn.write(t));
          s.session.opened();
          break;
        }
        default: return false;
      }
      // The clock moves only on clock_step / clock_set (bounded by the harness's virtual-time oracle).
      if (ctx.machine.clock.now !== before && !String(op['s'] ?? '').startsWith('clock_')) ctx.feature('clock-moved');
      const text = s.conn.take();
      for (const l of text.split('\n').filter((x) => x)) {
        if (isInternalError(l)) throw new OracleFailure({ kind: 'internal', message: `a JavaScript error reached the qtest client: ${l.slice(0, 160)}` });
        ctx.feature(`qtest:${l.replace(/0x[0-9a-f]+|\d+/gi, 'N').slice(0, 60)}`);
      }
      s.session.feed('\nendianness\n');
      if (!/^OK (big|little)\n$/.test(s.conn.take().split(/(?<=\n)/).pop() ?? '')) {
        throw new OracleFailure({ kind: 'server-down', message: `after op ${op.k}: the session no longer answers 'endianness'` });
      }
      return true;
    },
  });
}
