import { ConfigError } from '../base/config-error.js';
import { parseCmdline } from '../machine/cmdline.js';
import { machineHelp } from '../machine/boards/index.js';
import { defaultDeviceRegistry } from '../machine/devices/index.js';
import type { MachineConfig } from '../machine/config.js';
import { Machine } from '../machine/machine.js';
import { startQtestServer } from '../machine/qtest/server.js';
import { handleDumpDtb } from './dumpdtb.js';
import type { CliIo } from './io.js';
import { systemUsage } from './system-usage.js';
import { errorLines } from './usage-error.js';

const NAME = 'viommu-system';


/** A running service attached to the machine (the QMP server). */
export interface SystemService {
  /** Resolves when the service ends (e.g. QMP "quit"). */
  readonly finished: Promise<void>;
  close(): void;
}

/**
 * Seams for services other rooms provide. The QMP server (src/machine/qmp/)
 * plugs in here: viommu-system calls startQmp with the monitors that
 * -qmp / -chardev + -mon asked for.
 */
export interface SystemHooks {
  startQmp?(machine: Machine, monitors: MachineConfig['qmp']): Promise<SystemService>;
}

/** Waits for SIGINT or SIGTERM. */
function untilSignal(): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      resolve();
    };
    process.on('SIGINT', done);
    process.on('SIGTERM', done);
  });
}

/** The QEMU-compatible entry point `viommu-system`; returns the exit status. */
export async function runSystem(argv: string[], io: CliIo, hooks: SystemHooks = {}): Promise<number> {
  const err = (msg: string, hint?: string) => io.stderr.write(errorLines(NAME, { message: msg, hint }));
  let parsed;
  try {
    parsed = parseCmdline(argv);
  } catch (e) {
    if (e instanceof ConfigError) {
      err(e.message, e.hint);
      return 1;
    }
    throw e;
  }
  const { config, action } = parsed;
  const registry = defaultDeviceRegistry();
  switch (action.kind) {
    case 'help':
      io.stdout.write(systemUsage(NAME));
      return 0;
    case 'version':
      io.stdout.write(`${NAME} (viommu 0.1.0), compatible with QEMU emulator version 7.2\n`);
      return 0;
    case 'machine-help':
      io.stdout.write(machineHelp());
      return 0;
    case 'device-help': {
      if (action.driver !== undefined) {
        const t = registry.get(action.driver);
        if (!t) {
          err(`'${action.driver}' is not a valid device model name`, ConfigError.didYouMean(action.driver, registry.names()));
          return 1;
        }
        io.stdout.write(registry.help(t));
      } else {
        io.stdout.write(registry.names().map((n) => `name "${n}", bus ${registry.get(n)!.bus === 'pci' ? 'PCI' : 'System'}, desc "${registry.get(n)!.desc}"\n`).join(''));
      }
      return 0;
    }
    case 'run':
      break;
  }
  for (const n of config.notes) err(`note: ${n}`);
  let machine: Machine;
  try {
    machine = Machine.create(config, registry);
  } catch (e) {
    if (e instanceof ConfigError) {
      err(e.message, e.hint);
      return 1;
    }
    throw e;
  }
  const dumped = handleDumpDtb(machine, err);
  if (dumped !== undefined) return dumped;
  machine.console = (text) => io.stdout.write(text);
  const waits: Promise<void>[] = [];
  const closers: (() => void)[] = [];
  if (config.qmp.length > 0 && hooks.startQmp) {
    const qmp = await hooks.startQmp(machine, config.qmp);
    waits.push(qmp.finished);
    closers.push(() => qmp.close());
  } else if (config.qmp.length > 0) {
    err('note: the QMP server is not part of this build yet; -qmp / -mon are parsed but not served');
  }
  if (config.qtest) {
    const server = startQtestServer(machine, config.qtest.chardev, { log: config.qtest.log, stderr: io.stderr });
    try {
      await server.ready;
    } catch (e) {
      if (e instanceof ConfigError) {
        err(e.message, e.hint);
        return 1;
      }
      throw e;
    }
    waits.push(server.finished);
    closers.push(() => server.close());
  }
  if (waits.length === 0 && config.qmp.length === 0) {
    err('note: nothing to serve (no -qtest, no -qmp); the machine was built and is exiting');
    return 0;
  }
  await Promise.race([...waits, untilSignal()]);
  for (const c of closers) c();
  return 0;
}
