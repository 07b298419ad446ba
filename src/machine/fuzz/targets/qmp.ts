import { QmpServer } from '../../qmp/server.js';
import { MachineQmpBackend } from '../../qmp-backend.js';
import { OracleFailure } from '../harness.js';
import { num, type FuzzRng } from '../rng.js';
import type { FuzzTarget, Op, Variant } from '../types.js';
import { machineTarget } from './machine-target.js';
import { FakeConnection, garbage, isInternalError } from './stream.js';

const VARIANTS: readonly Variant[] = [
  { name: 'q35-vtd-ports', args: ['-M', 'q35', '-device', 'intel-iommu,caching-mode=on', '-device', 'edu', '-device', 'pcie-root-port,id=rp1,chassis=1', '-device', 'pcie-root-port,id=rp2,chassis=2'] },
  { name: 'virt-smmuv3-ports', args: ['-M', 'virt,iommu=smmuv3', '-device', 'edu', '-device', 'pcie-root-port,id=rp1,chassis=1'] },
  { name: 'pseries-drc', args: ['-M', 'pseries', '-device', 'edu'] },
];
const COMMANDS = ['qmp_capabilities', 'query-version', 'query-status', 'query-commands', 'query-pci', 'device_add', 'device_del',
  'human-monitor-command', 'stop', 'cont', 'system_reset', 'no-such-command', 'quit'];
const HMP = ['info mtree', 'info pci', 'info iommu', 'info qtree', 'info mtree -f', 'info', 'help', 'info status', 'device_del x', 'bogus', ''];
const DRIVERS = ['edu', 'pcie-root-port', 'pci-bridge', 'virtio-iommu-pci', 'intel-iommu', 'nope', ''];
const IDS = ['d1', 'd2', 'rp1', 'rp2', '', 'x'];
const BUSES = ['rp1', 'rp2', 'pcie.0', 'pci.0', 'nope', ''];

function randomArgs(rng: FuzzRng, cmd: string): Record<string, string | number | boolean | null> {
  const a: Record<string, string | number | boolean | null> = {};
  if (cmd === 'device_add') {
    a['driver'] = rng.pick(DRIVERS);
    if (rng.chance(0.8)) a['bus'] = rng.pick(BUSES);
    if (rng.chance(0.7)) a['id'] = rng.pick(IDS);
    if (rng.chance(0.2)) a[rng.pick(['addr', 'chassis', 'x-max-mappings', 'caching-mode'])] = rng.pick(['0x1f.7', '99999', 'on', '-1']);
  } else if (cmd === 'device_del') a['id'] = rng.pick(IDS);
  else if (cmd === 'human-monitor-command') a['command-line'] = rng.pick(HMP);
  if (rng.chance(0.1)) a[rng.pick(['bogus', 'id', 'driver'])] = rng.pick([1, null, true, 'z']);
  return a;
}

function randomQmpOp(rng: FuzzRng): Op {
  const c = rng.below(12);
  if (c < 6) {
    const execute = rng.pick(COMMANDS);
    return { k: 'qmp', execute, args: randomArgs(rng, execute), id: rng.chance(0.3) ? rng.u32() : null };
  }
  if (c < 8) return { k: 'raw', s: garbage(rng, 1 + rng.below(64)) };
  if (c < 9) return { k: 'huge', n: rng.pick([1 << 10, 1 << 16, 1 << 20, 3 << 20]), c: rng.pick(['a', '[', '"', ' ', '{']) };
  if (c < 10) return { k: 'nest', d: rng.pick([10, 1000, 1024, 1025, 5000]) };
  if (c < 11) return { k: 'close', partial: rng.chance(0.5) ? '{"execute": "qu' : '' };
  return { k: 'wait', ns: rng.below(10_000_000) };
}

interface QmpState {
  readonly server: QmpServer;
  conn: FakeConnection;
}

function connect(s: QmpState): FakeConnection {
  const c = new FakeConnection();
  s.server.attach(c);
  s.conn = c;
  return c;
}

/** Each line a server wrote must be JSON, and no error may be a JavaScript failure. */
function checkReplies(text: string, where: string): string[] {
  const lines = text.split('\r\n').filter((l) => l.length > 0);
  for (const l of lines) {
    let msg: { error?: { desc?: string } };
    try {
      msg = JSON.parse(l) as { error?: { desc?: string } };
    } catch {
      throw new OracleFailure({ kind: 'internal', message: `${where}: the server wrote a line that is not JSON: ${l.slice(0, 120)}` });
    }
    const desc = msg.error?.desc;
    if (desc !== undefined && isInternalError(desc)) throw new OracleFailure({ kind: 'internal', message: `${where}: a JavaScript error reached the client: ${desc.slice(0, 160)}` });
  }
  return lines;
}

/** The QMP server over in-process connections: garbage bytes, huge and deeply nested messages, half-open connections, every command with hostile arguments. */
export function qmpTarget(): FuzzTarget {
  return machineTarget<QmpState>({
    name: 'qmp',
    summary: 'QMP server: byte garbage, huge lines, deep nesting, half-open connections, commands with hostile arguments',
    variants: VARIANTS,
    maxOps: 48,
    randomOp: (rng) => randomQmpOp(rng),
    mutateOp: (rng, op) => (op.k === 'qmp' ? { ...op, args: randomArgs(rng, String(op['execute'])) } : op.k === 'raw' ? { ...op, s: garbage(rng, 1 + rng.below(64)) } : undefined),
    setup: (ctx) => {
      const s: QmpState = { server: new QmpServer(new MachineQmpBackend(ctx.machine), () => undefined), conn: new FakeConnection() };
      connect(s).send('{"execute":"qmp_capabilities"}\r\n');
      s.conn.take();
      return s;
    },
    exec: (ctx, s, op) => {
      switch (op.k) {
        case 'qmp': {
          const msg: Record<string, unknown> = { execute: op['execute'], arguments: op['args'] };
          if (op['id'] !== null && op['id'] !== undefined) msg['id'] = op['id'];
          s.conn.send(`${JSON.stringify(msg)}\r\n`);
          break;
        }
        case 'raw': s.conn.send(String(op['s'])); break;
        case 'huge': s.conn.send(String(op['c'] ?? 'a').slice(0, 1).repeat(Math.min(num(op['n']), 4 << 20))); break;
        case 'nest': { const d = Math.min(num(op['d']), 10_000); s.conn.send(`${'['.repeat(d)}${']'.repeat(d)}\n`); break; }
        case 'close':
          s.conn.send(String(op['partial'] ?? ''));
          s.conn.close();
          connect(s).send('{"execute":"qmp_capabilities"}\r\n');
          break;
        default: return false;
      }
      for (const l of checkReplies(s.conn.take(), `after op ${op.k}`)) ctx.feature(`qmp:${l.replace(/"(timestamp|id)":[^}]*}?/g, '').replace(/\d+/g, 'N').slice(0, 80)}`);
      if (!qmpHealthy(s.server)) throw new OracleFailure({ kind: 'server-down', message: `after op ${op.k}: a new client no longer gets the greeting and its answer` });
      return true;
    },
  });
}

/** A well-behaved client still gets the greeting and its answers (the server-down oracle), used by the qmp target's tests. */
export function qmpHealthy(server: QmpServer): boolean {
  const c = new FakeConnection();
  server.attach(c);
  c.send('{"execute":"qmp_capabilities"}\r\n{"execute":"query-version","id":7}\r\n');
  const lines = c.take().split('\r\n').filter((l) => l);
  c.close();
  return lines.length === 3 && lines[0]!.includes('"QMP"') && /"id": ?7/.test(lines[2]!) && lines[2]!.includes('"return"');
}
