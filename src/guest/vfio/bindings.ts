import type { GuestDevice } from '../device.js';
import type { VfioPciBinding } from './binding.js';

/** The devices the guest's vfio-pci driver holds, each with its user's session (kernel.vfio). */
export class VfioBindings {
  private readonly byDev = new Map<GuestDevice, VfioPciBinding>();

  get(dev: GuestDevice): VfioPciBinding | undefined {
    return this.byDev.get(dev);
  }
  set(dev: GuestDevice, b: VfioPciBinding): void {
    this.byDev.set(dev, b);
  }
  delete(dev: GuestDevice): void {
    this.byDev.delete(dev);
  }
  get size(): number {
    return this.byDev.size;
  }
}
