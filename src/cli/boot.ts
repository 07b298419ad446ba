import { ConfigError } from '../base/config-error.js';
import { bootGuest, DMA_MODES, type BootOptions, type DmaMode } from '../guest/boot.js';
import { DmaOracle } from '../guest/oracle/oracle.js';
import { formatReport } from '../guest/report/format.js';
import { reportFailed, type BootReport } from '../guest/report/report.js';
import { parseWorkloadSpec } from '../guest/workload/workload.js';
import { REGRESSION_SWITCHES } from '../guest/iommu-core/core.js';
import { infoMtree } from '../memory/mtree.js';
import { installDmaTap } from '../machine/dma-tap.js';
import { loadMachineConfig } from '../machine/load-config.js';
import { Machine } from '../machine/machine.js';
import { humanMonitorCommand } from '../machine/monitor/hmp.js';
import { infoPci } from '../machine/monitor/info-pci.js';
import { commandHelp, parseArgs, type CommandSpec } from './args.js';
import { handleDumpDtb } from './dumpdtb.js';
import type { CliIo } from './io.js';
import { TRACE_FLAG, traceFor, writeTraceFile } from './trace-file.js';
import { UsageError } from './usage-error.js';

export const BOOT_SPEC: CommandSpec = {
  name: 'boot',
  summary: 'Boot a machine (default: q35 with intel-iommu and an edu device) with the synthetic guest and print the boot report.',
  positional: '[CONFIG.json | -- QEMU-ARGS...]',
  flags: {
    json: { type: 'bool', help: 'print the report as JSON' },
    'dma-mode': { type: 'string', help: 'Linux DMA domain policy: iommu.strict=1, lazy (flush queue) or passthrough', choices: DMA_MODES, default: 'lazy' },
    workload: { type: 'string', arg: 'NAME[:K=V,...]', help: 'a guest workload to run (default: edu-dma)', repeatable: true },
    regress: { type: 'string', arg: 'SWITCH', help: `reproduce a historical bug (${REGRESSION_SWITCHES.join(', ')})`, repeatable: true },
    seed: { type: 'int', arg: 'N', help: 'seed of the guest workloads', default: 1 },
    firmware: { type: 'string', help: 'firmware description the guest reads where a board has both', choices: ['dt', 'acpi'] },
    'edu-dma-bits': { type: 'int', arg: 'N', help: "DMA mask the guest's edu driver asks for (QEMU edu dma_mask)" },
    info: { type: 'bool', help: 'print info pci, info mtree and info iommu after the boot' },
    trace: TRACE_FLAG,
  },
  notes: 'Exits 1 if the DMA oracle saw a violation or a workload failed.',
};

/** `viommu boot`: build the machine, boot the synthetic guest on it, print the report. */
export async function runBoot(argv: string[], io: CliIo): Promise<number> {
  const a = parseArgs(BOOT_SPEC, argv);
  if (a.help) {
    io.stdout.write(commandHelp(BOOT_SPEC));
    return 0;
  }
  let machine: Machine;
  let options: BootOptions;
  try {
    const config = loadMachineConfig(a.rest.length > 0 || argv.includes('--') ? ['--', ...a.rest] : a.positional);
    for (const n of config.notes) io.stderr.write(`viommu: note: ${n}\n`);
    machine = Machine.create(config);
    options = {
      dmaMode: a.flags['dma-mode'] as DmaMode,
      seed: a.flags['seed'] as number,
      regress: (a.flags['regress'] as string[] | undefined) ?? [],
      ...(a.flags['workload'] ? { workloads: (a.flags['workload'] as string[]).map(parseWorkloadSpec) } : {}),
      ...(a.flags['firmware'] ? { firmware: a.flags['firmware'] as 'dt' | 'acpi' } : {}),
      ...(a.flags['edu-dma-bits'] !== undefined ? { eduDmaBits: a.flags['edu-dma-bits'] as number } : {}),
    };
  } catch (e) {
    if (e instanceof ConfigError) throw UsageError.fromConfig(e);
    throw e;
  }
  const dumped = handleDumpDtb(machine, (msg) => io.stderr.write(`viommu: ${msg}\n`));
  if (dumped !== undefined) return dumped;
  const traceFile = a.flags['trace'] as string | undefined;
  const trace = traceFor(traceFile);
  if (trace) machine.mem.tracer.attach(trace, () => machine.clock.now);
  const report = bootMachine(machine, options);
  if (trace && traceFile !== undefined) writeTraceFile(traceFile, trace, (m) => io.stderr.write(`viommu: ${m}\n`));
  io.stdout.write(a.flags['json'] ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
  if (a.flags['info']) {
    io.stdout.write('(qemu) info pci\n');
    io.stdout.write(infoPci([machine.rootBus]));
    io.stdout.write('(qemu) info mtree\n');
    io.stdout.write(infoMtree(machine.mem));
    io.stdout.write('(qemu) info iommu\n');
    io.stdout.write(humanMonitorCommand(machine, 'info iommu'));
  }
  return reportFailed(report) ? 1 : 0;
}

/** Boots the synthetic guest on a built machine with the DMA oracle watching every device. */
export function bootMachine(machine: Machine, options: BootOptions): BootReport {
  const port = machine.guestPort();
  const oracle = options.oracle ?? new DmaOracle(() => port.now(), port.log);
  installDmaTap(machine, oracle);
  try {
    return bootGuest(port, { ...options, oracle });
  } catch (e) {
    if (e instanceof ConfigError) throw UsageError.fromConfig(e);
    throw e;
  }
}
