import { bootGuestKernel, type BootOptions, type BootedGuest } from '../../../src/guest/boot.js';
import type { GuestDevice } from '../../../src/guest/device.js';
import type { GuestKernel } from '../../../src/guest/kernel.js';
import { NativeMmio } from '../../../src/guest/native-mmio.js';
import { DmaOracle } from '../../../src/guest/oracle/oracle.js';
import { spaprTceDriverOf } from '../../../src/guest/spapr/module.js';
import { VfioSpaprTceContainer } from '../../../src/guest/spapr/vfio/container.js';
import { VfioSpaprUser } from '../../../src/guest/spapr/vfio/user.js';
import { VfioUserMemory } from '../../../src/guest/spapr/vfio/user-mm.js';
import { PseriesBoard } from '../../../src/machine/boards/pseries/pseries.js';
import { parseCmdline } from '../../../src/machine/cmdline.js';
import { installDmaTap } from '../../../src/machine/dma-tap.js';
import { Machine } from '../../../src/machine/machine.js';

/** A pseries machine from QEMU-style arguments (after -M pseries), not booted. */
export function pseries(...args: string[]): { m: Machine; board: PseriesBoard } {
  const m = Machine.create(parseCmdline(['-M', 'pseries', ...args]).config);
  return { m, board: m.board as PseriesBoard };
}

export interface PseriesRig {
  readonly m: Machine;
  readonly board: PseriesBoard;
  readonly booted: BootedGuest;
  readonly k: GuestKernel;
  readonly oracle: DmaOracle;
}

/** Boots the synthetic guest on a pseries machine with the DMA oracle tapped in (as `viommu boot` does). */
export function bootPseries(args: readonly string[], opts: BootOptions = {}): PseriesRig {
  const { m, board } = pseries(...args);
  const port = m.guestPort();
  const oracle = new DmaOracle(() => port.now(), port.log);
  installDmaTap(m, oracle);
  const booted = bootGuestKernel(port, { ...opts, oracle });
  return { m, board, booted, k: booted.kernel, oracle };
}

export function eduOf(k: GuestKernel, i = 0): GuestDevice {
  return k.devices.filter((d) => d.pci?.vendor === 0x1234 && d.pci.device === 0x11e8)[i]!;
}

/** Programs edu's DMA engine directly, as a VFIO user's driver does (registers in the CPU's byte order). */
export function eduDma(k: GuestKernel, dev: GuestDevice, bus: number, len: number, toRam: boolean): void {
  const io = new NativeMmio(k.port, true);
  const mmio = dev.pci!.bars[0]!.cpuAddress;
  io.write64(mmio + 0x80, toRam ? 0x40000 : bus);
  io.write64(mmio + 0x88, toRam ? bus : 0x40000);
  io.write64(mmio + 0x90, len);
  io.write64(mmio + 0x98, toRam ? 3 : 1);
  k.clock.sleep(200_000_000);
}

/** A VFIO sPAPR TCE v2 user over the guest's pseries driver. */
export function vfioUser(k: GuestKernel): { user: VfioUserMemory; c: VfioSpaprTceContainer; u: VfioSpaprUser } {
  const user = new VfioUserMemory(k.mem);
  const c = new VfioSpaprTceContainer(k, spaprTceDriverOf(k)!, user);
  return { user, c, u: new VfioSpaprUser(c) };
}
