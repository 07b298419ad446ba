import { closest } from '../base/index.js';
import { formatVhostBench, runVhostBench, VHOST_BENCH_CONFIGS, type VhostBenchOptions } from './bench-vhost.js';
import type { CliIo } from './io.js';
import { UsageError } from './usage-error.js';

const HELP = `usage: viommu bench vhost [options]

Packets per second (wall clock) and device-IOTLB hit rate of virtio-net
traffic (echoed packets, data checked) for: vhost with DEVIOTLB_UNMAP
(intel-iommu device-iotlb=on), vhost with the UNMAP fallback (the vIOMMU
vetoes DEVIOTLB_UNMAP), the emulated device, and vhost without a vIOMMU;
each with 1 and 2 devices (one vhost worker each).

  --packets N     packets per device in the timed run   [20000]
  --bytes N       data bytes per packet                 [256]
  --batch N       packets per kick                      [64]
  --workers L     comma-separated worker counts         [1,2]
  --per-packet    map/unmap every buffer (default: pooled buffers, a steady working set)
  --config L      only these configurations (${VHOST_BENCH_CONFIGS.map((c) => c.name).join(', ')})
  --rounds N      interleaved rounds, median reported   [3]
  --json          rows as JSON
`;

export async function runVhostBenchCli(args: readonly string[], io: CliIo): Promise<number> {
  const o: { -readonly [K in keyof VhostBenchOptions]: VhostBenchOptions[K] } = { packets: 20000, bytes: 256, batch: 64, workers: [1, 2], pool: true, rounds: 3 };
  let json = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const eq = a.indexOf('=');
    const name = a.startsWith('--') ? a.slice(2, eq < 0 ? undefined : eq) : '';
    const val = () => {
      const v = eq >= 0 ? a.slice(eq + 1) : args[++i];
      if (v === undefined) throw new UsageError(`--${name} needs a value`);
      return v;
    };
    const int = () => {
      const v = val();
      if (!/^\d+$/.test(v) || Number(v) < 1) throw new UsageError(`--${name}: '${v}' is not a positive integer`);
      return Number(v);
    };
    if (name === 'help') {
      io.stdout.write(HELP);
      return 0;
    } else if (name === 'json') json = true;
    else if (name === 'per-packet') o.pool = false;
    else if (name === 'packets') o.packets = int();
    else if (name === 'rounds') o.rounds = int();
    else if (name === 'bytes') o.bytes = Math.min(1470, int());
    else if (name === 'batch') o.batch = Math.min(128, int());
    else if (name === 'workers') o.workers = val().split(',').map((x) => Math.max(1, Math.min(8, Number(x) || 1)));
    else if (name === 'config') {
      const names = val().split(',');
      for (const n of names) {
        if (!VHOST_BENCH_CONFIGS.some((c) => c.name === n)) {
          const near = closest(n, VHOST_BENCH_CONFIGS.map((c) => c.name));
          throw new UsageError(`--config: unknown configuration '${n}'${near ? `; did you mean '${near}'?` : ''}`);
        }
      }
      o.configs = names;
    } else {
      const near = closest(name, ['packets', 'bytes', 'batch', 'workers', 'per-packet', 'config', 'rounds', 'json', 'help']);
      throw new UsageError(`unknown option '${a}'${near ? `; did you mean '--${near}'?` : ''}`);
    }
  }
  const rows = runVhostBench(o);
  io.stdout.write(json ? `${JSON.stringify(rows)}\n` : formatVhostBench(rows, o));
  return rows.every((r) => r.ok) ? 0 : 1;
}
