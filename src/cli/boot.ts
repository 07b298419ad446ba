import { ConfigError } from '../base/config-error.js';
import { infoMtree } from '../memory/mtree.js';
import { loadMachineConfig } from '../machine/load-config.js';
import { Machine } from '../machine/machine.js';
import { infoPci } from '../machine/monitor/info-pci.js';
import { handleDumpDtb } from './dumpdtb.js';
import type { CliIo } from './io.js';
import { UsageError } from './usage-error.js';

export const BOOT_HELP = `usage: viommu boot [CONFIG.json | -- QEMU-ARGS...]
Builds a machine (default: q35 with an edu device) and prints its
"info pci" and "info mtree", as QEMU's monitor does.
`;

/** `viommu boot`: build the board, print info pci and info mtree. */
export async function runBoot(args: string[], io: CliIo): Promise<number> {
  if (args[0] === '--help' || args[0] === '-h') {
    io.stdout.write(BOOT_HELP);
    return 0;
  }
  let machine: Machine;
  try {
    const config = loadMachineConfig(args);
    for (const n of config.notes) io.stderr.write(`viommu: note: ${n}\n`);
    machine = Machine.create(config);
  } catch (e) {
    if (e instanceof ConfigError) throw new UsageError(e.message);
    throw e;
  }
  const dumped = handleDumpDtb(machine, (msg) => io.stderr.write(`viommu: ${msg}\n`));
  if (dumped !== undefined) return dumped;
  io.stdout.write(`machine ${machine.boardName} (${machine.describe().machineType}), ${machine.ramSize / (1024 * 1024)} MiB RAM\n\n`);
  io.stdout.write('(qemu) info pci\n');
  io.stdout.write(infoPci([machine.rootBus]));
  io.stdout.write('(qemu) info mtree\n');
  io.stdout.write(infoMtree(machine.mem));
  return 0;
}
