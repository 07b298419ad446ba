import { bootGuestKernel, type BootOptions, type BootedGuest } from '../../../src/guest/boot.js';
import type { GuestDevice } from '../../../src/guest/device.js';
import type { GuestKernel } from '../../../src/guest/kernel.js';
import { fakeQ35, TIOMMU_BASE, type Board, type BoardOptions } from './boards.js';
import type { FakeEdu } from './edu.js';
import { testIommuModule, type TestIommuDriver, type TestIommuOptions } from './test-iommu.js';

export interface Rig {
  readonly board: Board;
  readonly booted: BootedGuest;
  readonly driver: TestIommuDriver | undefined;
}

/** Boots the fake q35 with the test IOMMU (unless iommu: false) and the given boot options. */
export function bootQ35(o: { board?: BoardOptions; iommu?: Partial<TestIommuOptions> | false; boot?: BootOptions } = {}): Rig {
  const withIommu = o.iommu !== false;
  const board = fakeQ35({ iommu: withIommu, ...o.board });
  const out: { driver?: TestIommuDriver } = {};
  const modules = withIommu ? [testIommuModule({ base: TIOMMU_BASE, ...(o.iommu || {}) }, out), ...(o.boot?.modules ?? [])] : o.boot?.modules ?? [];
  const booted = bootGuestKernel(board.m.port(), { oracle: board.oracle, ...o.boot, modules });
  return { board, booted, driver: out.driver };
}

export function eduDev(k: GuestKernel, i = 0): GuestDevice {
  return k.devices.filter((d) => d.pci?.vendor === 0x1234 && d.pci.device === 0x11e8)[i]!;
}

/** Programs the fake edu's DMA engine directly, as a user-space driver (VFIO) would, and lets it run. */
export function eduRaw(k: GuestKernel, dev: GuestDevice, iova: number, len: number, toRam: boolean, bufOffset = 0): void {
  const mmio = dev.pci!.bars[0]!.cpuAddress;
  const w = (reg: number, v: number): void => {
    k.port.write(mmio + reg, 8, v % 2 ** 32, Math.floor(v / 2 ** 32));
  };
  w(0x80, toRam ? 0x40000 + bufOffset : iova);
  w(0x88, toRam ? iova : 0x40000 + bufOffset);
  w(0x90, len);
  w(0x98, toRam ? 3 : 1);
  k.clock.sleep(100_000_000);
}

export function fakeEduOf(board: Board, i = 0): FakeEdu {
  return board.edus[i]!;
}
