import { bootGuestKernel, type BootOptions, type BootedGuest } from '../../../src/guest/boot.js';
import type { GuestDevice } from '../../../src/guest/device.js';
import type { DmaObservation } from '../../../src/guest/oracle/observation.js';
import { DmaOracle } from '../../../src/guest/oracle/oracle.js';
import { parseCmdline } from '../../../src/machine/cmdline.js';
import { installDmaTap } from '../../../src/machine/dma-tap.js';
import { Machine } from '../../../src/machine/machine.js';
import { VfioPciModel } from '../../../src/pci/vfio/vfio-pci-model.js';

/** An oracle that also keeps every observation, to check which path reported it. */
export class RecordingOracle extends DmaOracle {
  readonly seen: DmaObservation[] = [];
  override observe(o: DmaObservation): void {
    this.seen.push(o);
    super.observe(o);
  }
}

export interface VfioRig {
  readonly m: Machine;
  readonly booted: BootedGuest;
  readonly oracle: RecordingOracle;
  readonly model: VfioPciModel;
  readonly dev: GuestDevice;
}

/** Builds a machine from QEMU arguments, taps the DMA oracle in and boots the synthetic guest. */
export function bootVfio(args: readonly string[], opts: BootOptions = {}): VfioRig {
  const m = Machine.create(parseCmdline(['-nodefaults', ...args]).config);
  const port = m.guestPort();
  const oracle = new RecordingOracle(() => port.now(), port.log);
  installDmaTap(m, oracle);
  const booted = bootGuestKernel(port, { dmaMode: 'strict', ...opts, oracle });
  const model = m.pciDevices().find((d): d is VfioPciModel => d instanceof VfioPciModel)!;
  const dev = booted.kernel.devices.find((d) => d.pci?.vendor === 0x1234 && d.pci.device === 0x11e8)!;
  return { m, booted, oracle, model, dev };
}

/** The realize error a command line gives (Machine.create throws it), or undefined. */
export function createError(args: readonly string[]): string | undefined {
  try {
    Machine.create(parseCmdline(['-nodefaults', ...args]).config);
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}
