import type { MachineConfig } from '../machine/config.js';
import type { Machine } from '../machine/machine.js';
import { MachineQmpBackend } from '../machine/qmp-backend.js';
import { QmpServer } from '../machine/qmp/server.js';
import type { SystemService } from './system-main.js';

/**
 * Serves QMP on every monitor the command line asked for (-qmp, or
 * -chardev + -mon mode=control). Finishes when a client sends "quit".
 */
export async function startQmp(machine: Machine, monitors: MachineConfig['qmp']): Promise<SystemService> {
  let quit: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => {
    quit = resolve;
  });
  const server = new QmpServer(new MachineQmpBackend(machine), () => quit());
  for (const mon of monitors) await server.listen(mon.chardev);
  return { finished, close: () => server.close() };
}
