import type { AddressSpace } from '../memory/address-space.js';
import type { MemorySystem } from '../memory/memory-system.js';
import type { AliasRegion, ContainerRegion } from '../memory/region.js';

const SIZE_2_64 = 1n << 64n;

/**
 * A function's bus-master address space (QEMU hw/pci/pci.c
 * pci_init_bus_master): an address space named after the device whose root
 * "bus master container" holds the alias "bus master" onto the root of the
 * DMA address space the IOMMU hook returned (system memory without an
 * IOMMU). Command.BME enables the alias; with it disabled the container is
 * empty, so the device's DMA is a decode error: reads deliver zeros, writes
 * change nothing.
 */
export class BusMaster {
  readonly container: ContainerRegion;
  readonly as: AddressSpace;
  private alias: AliasRegion | undefined;
  private enabled = false;
  private target: AddressSpace | undefined;

  constructor(private readonly mem: MemorySystem, name: string) {
    this.container = mem.container('bus master container', SIZE_2_64);
    this.as = mem.addressSpace(this.container, name);
  }

  /** The address space the alias points into now. */
  get dmaAddressSpace(): AddressSpace | undefined {
    return this.target;
  }

  get isEnabled(): boolean {
    return this.enabled;
  }

  /** (Re-)points the alias at `target`'s root, keeping the BME state. */
  attach(target: AddressSpace): void {
    if (this.target === target && this.alias) return;
    this.mem.transaction(() => {
      if (this.alias) this.container.removeSubregion(this.alias);
      this.alias = undefined;
      this.target = target;
      const root = target.root;
      if (!root) return;
      const a = this.mem.alias('bus master', root, 0, root.size);
      a.enabled = this.enabled;
      this.container.addSubregion(a, 0);
      this.alias = a;
    });
  }

  /** memory_region_set_enabled(bus_master_enable_region, BME). */
  setEnabled(on: boolean): void {
    this.enabled = on;
    this.alias?.setEnabled(on);
  }

  /** do_pci_unregister_device: drop the alias and destroy the address space. */
  destroy(): void {
    this.mem.transaction(() => {
      if (this.alias) this.container.removeSubregion(this.alias);
      this.alias = undefined;
    });
    this.mem.destroyAddressSpace(this.as);
    this.target = undefined;
  }
}
