import { closest } from '../base/index.js';
import { commandHelp, parseArgs, type CommandSpec } from './args.js';
import { formatVhostBench, runVhostBench, VHOST_BENCH_CONFIGS, type VhostBenchOptions } from './bench-vhost.js';
import type { CliIo } from './io.js';
import { UsageError } from './usage-error.js';

/** `viommu bench vhost`: virtio-net traffic through vhost with and without a device IOTLB. */
export const BENCH_VHOST_SPEC: CommandSpec = {
  name: 'bench vhost',
  summary: 'Measure packets per second and the device-IOTLB hit rate of virtio-net traffic through vhost.',
  flags: {
    packets: { type: 'int', arg: 'N', help: 'packets per device in the timed run', default: 20000 },
    bytes: { type: 'int', arg: 'N', help: 'data bytes per packet (at most 1470)', default: 256 },
    batch: { type: 'int', arg: 'N', help: 'packets per kick (at most 128)', default: 64 },
    workers: { type: 'string', arg: 'L', help: 'comma-separated worker counts (1 to 8)', default: '1,2' },
    'per-packet': { type: 'bool', help: 'map/unmap every buffer (default: pooled buffers, a steady working set)' },
    config: { type: 'string', arg: 'L', help: `only these configurations (${VHOST_BENCH_CONFIGS.map((c) => c.name).join(', ')})` },
    rounds: { type: 'int', arg: 'N', help: 'interleaved rounds, median reported', default: 3 },
    kicks: { type: 'string', arg: 'L', help: 'kick modes: async (a kick returns at once), sync (each kick waits for its worker)', default: 'async' },
    json: { type: 'bool', help: 'rows as JSON' },
  },
  notes: 'Echoed packets, data checked, wall clock, for: vhost with DEVIOTLB_UNMAP (intel-iommu device-iotlb=on),\n'
    + 'vhost with the UNMAP fallback (the vIOMMU vetoes DEVIOTLB_UNMAP), the emulated device, and vhost without a\n'
    + 'vIOMMU; each with 1 and 2 devices (one vhost worker each). Kicks are asynchronous (the workers of two devices\n'
    + 'run at once); --kicks async,sync also measures each kick waiting for its worker. Exits 1 if a configuration failed.',
};

function positive(flag: string, v: number): number {
  if (v < 1) throw new UsageError(`--${flag}: '${v}' is not a positive integer`);
  return v;
}

/** `viommu bench vhost`; returns the exit status. */
export async function runVhostBenchCli(args: readonly string[], io: CliIo): Promise<number> {
  const a = parseArgs(BENCH_VHOST_SPEC, args);
  if (a.help) {
    io.stdout.write(commandHelp(BENCH_VHOST_SPEC));
    return 0;
  }
  if (a.positional.length > 0) throw new UsageError(`unexpected argument '${a.positional[0]}'`);
  const f = a.flags;
  const o: { -readonly [K in keyof VhostBenchOptions]: VhostBenchOptions[K] } = {
    packets: positive('packets', f['packets'] as number),
    bytes: Math.min(1470, positive('bytes', f['bytes'] as number)),
    batch: Math.min(128, positive('batch', f['batch'] as number)),
    workers: (f['workers'] as string).split(',').map((x) => Math.max(1, Math.min(8, Number(x) || 1))),
    pool: f['per-packet'] !== true,
    rounds: positive('rounds', f['rounds'] as number),
  };
  const kicks = (f['kicks'] as string).split(',');
  for (const k of kicks) if (k !== 'async' && k !== 'sync') throw new UsageError(`--kicks: '${k}' is not async or sync`);
  o.kicks = kicks as ('async' | 'sync')[];
  if (f['config'] !== undefined) {
    const names = (f['config'] as string).split(',');
    for (const n of names) {
      if (!VHOST_BENCH_CONFIGS.some((c) => c.name === n)) {
        const near = closest(n, VHOST_BENCH_CONFIGS.map((c) => c.name));
        throw new UsageError(`--config: unknown configuration '${n}'${near ? `; did you mean '${near}'?` : ''}`);
      }
    }
    o.configs = names;
  }
  const rows = runVhostBench(o);
  io.stdout.write(f['json'] ? `${JSON.stringify(rows)}\n` : formatVhostBench(rows, o));
  return rows.every((r) => r.ok) ? 0 : 1;
}
