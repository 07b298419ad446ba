import type { CliIo } from './io.js';

/** The QEMU-compatible entry point `viommu-system`; returns the exit status. */
export async function runSystem(argv: string[], io: CliIo): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    io.stdout.write('usage: viommu-system [QEMU options]\n');
    return 0;
  }
  io.stderr.write('viommu-system: no board yet\n');
  return 1;
}
