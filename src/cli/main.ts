import { runBench } from './bench.js';
import { runBoot } from './boot.js';
import { runFirmware } from './firmware.js';
import { runHotplug } from './hotplug.js';
import type { CliIo } from './io.js';
import { runMatrixCommand } from './matrix/command.js';
import { UsageError } from './usage-error.js';

interface Command {
  readonly summary: string;
  run(args: string[], io: CliIo): Promise<number>;
}

const COMMANDS: Record<string, Command> = {
  boot: {
    summary: 'boot a machine (default, config file or -- QEMU options) with the synthetic guest and print the boot report',
    run: runBoot,
  },
  firmware: {
    summary: 'build a machine and write its ACPI tables (SIG.dat) and device tree (machine.dtb) to --out DIR',
    run: runFirmware,
  },
  bench: {
    summary: 'run a benchmark (iotlb: the standard IOTLB workload)',
    run: runBench,
  },
  hotplug: {
    summary: 'run a hotplug / bind-unbind test script (JSON lines: QMP, guest actions, expectations) and print TAP',
    run: runHotplug,
  },
  matrix: {
    summary: 'run every vIOMMU x consumer x guest ATS x scenario combination (and the regression modes): works / refused / broken',
    run: runMatrixCommand,
  },
};

function help(): string {
  const names = Object.keys(COMMANDS);
  const w = Math.max(...names.map((n) => n.length));
  return [
    'usage: viommu <command> [options]',
    '',
    'commands:',
    ...names.map((n) => `  ${n.padEnd(w)}  ${COMMANDS[n]!.summary}`),
    '',
    "Run 'viommu <command> --help' for a command's options.",
    '',
  ].join('\n');
}

/** The `viommu` command; returns the exit status. */
export async function runViommu(argv: string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(help());
    return 0;
  }
  const cmd = COMMANDS[name];
  try {
    if (!cmd) throw new UsageError(`unknown command '${name}'`);
    return await cmd.run(rest, io);
  } catch (e) {
    if (e instanceof UsageError) {
      io.stderr.write(`viommu: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
}
