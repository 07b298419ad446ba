import { statSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../base/config-error.js';
import { firmwarePlatformSetup } from '../machine/firmware/platform-setup.js';
import { writeFirmwareFiles } from '../machine/firmware/inspect.js';
import { defaultBootConfig, loadMachineConfig } from '../machine/load-config.js';
import { Machine } from '../machine/machine.js';
import { commandHelp, parseArgs, type CommandSpec } from './args.js';
import type { CliIo } from './io.js';
import { UsageError } from './usage-error.js';

export const FIRMWARE_SPEC: CommandSpec = {
  name: 'firmware',
  summary: 'Build a machine (default: q35 with intel-iommu and an edu device) and write the firmware it hands over:\n'
    + 'every ACPI table as SIG.dat (for iasl -d) and the device tree as machine.dtb (for dtc -I dtb -O dts).',
  positional: '[CONFIG.json | -- QEMU-ARGS...]',
  flags: {
    out: { type: 'string', arg: 'DIR', help: 'directory to write into (created if missing); may also follow the QEMU arguments' },
    'reset-state': {
      type: 'bool',
      help: 'tables as served right after reset, before the firmware set-up (q35: no MCFG, PM base 0, bridges unnumbered)',
    },
  },
  notes: 'By default the firmware set-up a BIOS does before reading its tables is applied first (q35 MMCONFIG at\n'
    + '0xb0000000, PM base 0x600, bridge bus numbers). Tables keep QEMU\'s blob-relative pointers; checksums are filled.',
};

/** Takes `--out DIR` / `--out=DIR` out of the QEMU arguments (QEMU has no such option). */
function takeOut(rest: readonly string[]): { out: string | undefined; qemu: string[] } {
  const qemu: string[] = [];
  let out: string | undefined;
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i]!;
    if (a === '--out') {
      out = rest[++i];
      if (out === undefined) throw new UsageError("firmware: option '--out' needs a value (DIR)");
    } else if (a.startsWith('--out=')) out = a.slice(6);
    else qemu.push(a);
  }
  return { out, qemu };
}

/** `viommu firmware`: build the machine, write its ACPI tables and DTB, list what was written. */
export async function runFirmware(argv: string[], io: CliIo): Promise<number> {
  const p = parseArgs(FIRMWARE_SPEC, argv);
  if (p.help) {
    io.stdout.write(commandHelp(FIRMWARE_SPEC));
    return 0;
  }
  const afterDashes = argv.includes('--');
  const { out: outAfter, qemu } = takeOut(p.rest);
  const dir = outAfter ?? (typeof p.flags.out === 'string' ? p.flags.out : undefined);
  if (dir === undefined) throw new UsageError('firmware: --out DIR is required');
  if (p.positional.length > 1 || (afterDashes && p.positional.length > 0)) {
    throw new UsageError('firmware: give one config file, or QEMU arguments after --');
  }
  let machine: Machine;
  try {
    const config = afterDashes ? loadMachineConfig(['--', ...qemu]) : p.positional.length ? loadMachineConfig(p.positional) : defaultBootConfig();
    for (const n of config.notes) io.stderr.write(`viommu: note: ${n}\n`);
    machine = Machine.create(config);
  } catch (e) {
    if (e instanceof ConfigError) throw UsageError.fromConfig(e);
    throw e;
  }
  if (p.flags['reset-state'] !== true) firmwarePlatformSetup(machine);
  const written = writeFirmwareFiles(dir, machine.firmware.served());
  io.stdout.write(`machine ${machine.boardName} (${machine.describe().machineType}), ${machine.ramSize / (1024 * 1024)} MiB RAM\n`);
  if (written.length === 0) io.stdout.write('no firmware tables to write (acpi=off and no device tree)\n');
  for (const f of written) {
    const path = join(dir, f);
    io.stdout.write(`wrote ${path} (${statSync(path).size} bytes)\n`);
  }
  return 0;
}
