import { ConfigError } from '../base/config-error.js';
import type { CommandSpec } from './args.js';
import { BENCHMARKS, runBench } from './bench.js';
import { BOOT_SPEC, runBoot } from './boot.js';
import { FIRMWARE_SPEC, runFirmware } from './firmware.js';
import { HOTPLUG_SPEC, runHotplug } from './hotplug.js';
import { FUZZ_SPEC, runFuzzCommand } from './fuzz.js';
import type { CliIo } from './io.js';
import { MATRIX_SPEC, runMatrixCommand } from './matrix/command.js';
import { errorLines, UsageError } from './usage-error.js';

/** One `viommu` command. */
export interface Command {
  readonly summary: string;
  /**
   * The flag specs its parser uses (`viommu <spec.name> --help` prints each, via commandHelp);
   * test/cli/help.test.ts checks that every command declares them and that its help lists them.
   */
  readonly specs?: readonly CommandSpec[];
  run(args: string[], io: CliIo): Promise<number>;
}

/** The `viommu` commands, in the order `viommu --help` lists them. */
export const COMMANDS: Readonly<Record<string, Command>> = {
  boot: {
    summary: 'boot a machine (default, config file or -- QEMU options) with the synthetic guest and print the boot report',
    specs: [BOOT_SPEC],
    run: runBoot,
  },
  firmware: {
    summary: 'build a machine and write its ACPI tables (SIG.dat) and device tree (machine.dtb) to --out DIR',
    specs: [FIRMWARE_SPEC],
    run: runFirmware,
  },
  bench: {
    summary: 'run a benchmark (iotlb: the standard IOTLB workload)',
    specs: Object.values(BENCHMARKS),
    run: runBench,
  },
  hotplug: {
    summary: 'run a hotplug / bind-unbind test script (JSON lines: QMP, guest actions, expectations) and print TAP',
    specs: [HOTPLUG_SPEC],
    run: runHotplug,
  },
  matrix: {
    summary: 'run every vIOMMU x consumer x guest ATS x scenario combination (and the regression modes): works / refused / broken',
    specs: [MATRIX_SPEC],
    run: runMatrixCommand,
  },
  fuzz: {
    summary: 'fuzz the guest-facing surfaces with seeded inputs; --replay FILE reruns a reproducer',
    specs: [FUZZ_SPEC],
    run: runFuzzCommand,
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
    "Run 'viommu <command> --help' for a command's options; viommu-system -help for the QEMU-style entry point.",
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
    if (!cmd) throw new UsageError(`unknown command '${name}'`, ConfigError.didYouMean(name, Object.keys(COMMANDS)));
    return await cmd.run(rest, io);
  } catch (e) {
    if (e instanceof UsageError) {
      io.stderr.write(errorLines('viommu', e));
      return 2;
    }
    throw e;
  }
}
