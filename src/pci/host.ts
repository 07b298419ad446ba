import type { MmioOps } from '../memory/mmio-ops.js';
import type { PCIBus } from './bus.js';
import type { PCIDevice } from './device.js';
import { PCI_CONFIG_SPACE_SIZE } from './regs.js';

/**
 * pci_adjust_config_limit: extended config space (0x100 and up) is only
 * reachable when every bus on the way up is PCI Express.
 */
function adjustConfigLimit(bus: PCIBus, limit: number): number {
  for (let b: PCIBus | undefined = bus; b && limit > PCI_CONFIG_SPACE_SIZE; b = b.parentDev?.bus) {
    if (!b.allowsExtendedConfig) return PCI_CONFIG_SPACE_SIZE;
  }
  return limit;
}

/**
 * pci_host_config_read_common: all-ones beyond the reachable limit or while
 * the function has no power (slot powered off); otherwise the function's
 * config_read, cut at the limit.
 */
export function configReadCommon(dev: PCIDevice, addr: number, limit: number, len: number): number {
  limit = adjustConfigLimit(dev.bus, limit);
  if (limit <= addr || !dev.hasPower) return 0xffffffff;
  return dev.configRead(addr, Math.min(len, limit - addr)) >>> 0;
}

/** pci_host_config_write_common. */
export function configWriteCommon(dev: PCIDevice, addr: number, limit: number, val: number, len: number): void {
  limit = adjustConfigLimit(dev.bus, limit);
  if (limit <= addr || !dev.hasPower) return;
  dev.configWrite(addr, val >>> 0, Math.min(len, limit - addr));
}

/** The size of a function's config space (pci_config_size). */
export function configSize(dev: PCIDevice): number {
  return dev.cs.size;
}

/**
 * A PCI host bridge's configuration mechanisms (QEMU hw/pci/pci_host.c and
 * pcie_host.c): the 0xcf8/0xcfc address/data pair (PCI 3.0 section
 * 3.2.2.3.2, configuration mechanism #1: enable bit 31, bus [23:16],
 * devfn [15:8], register [7:2]) and the ECAM window (PCIe 6.0 section
 * 7.2.2: bus [27:20], devfn [19:12], register [11:0]). An absent function
 * reads all-ones; writes to it are dropped.
 */
export class PCIHostConfig {
  /** The 0xcf8 register (PCIHostState.config_reg). */
  configReg = 0;

  constructor(readonly bus: PCIBus) {}

  /** pci_data_read: `addr` is config_reg | (port & 3). */
  dataRead(addr: number, len: number): number {
    const dev = this.bus.findDevice((addr >>> 16) & 0xff, (addr >>> 8) & 0xff);
    if (!dev) return 0xffffffff;
    return configReadCommon(dev, addr & (PCI_CONFIG_SPACE_SIZE - 1), PCI_CONFIG_SPACE_SIZE, len);
  }

  /** pci_data_write. */
  dataWrite(addr: number, val: number, len: number): void {
    const dev = this.bus.findDevice((addr >>> 16) & 0xff, (addr >>> 8) & 0xff);
    if (!dev) return;
    configWriteCommon(dev, addr & (PCI_CONFIG_SPACE_SIZE - 1), PCI_CONFIG_SPACE_SIZE, val, len);
  }

  /** "pci-conf-idx" (pci_host_conf_le_ops): only a 4-byte write at offset 0 sets it; reads return it whole. */
  confAddrOps(): MmioOps {
    return {
      read: () => this.configReg >>> 0,
      write: (off, size, value) => {
        if (off === 0 && size === 4) this.configReg = value >>> 0;
      },
    };
  }

  /** "pci-conf-data" (pci_host_data_le_ops). */
  confDataOps(): MmioOps {
    return {
      read: (off, size) => {
        if (!(this.configReg & 0x80000000)) return 0xffffffff;
        return this.dataRead((this.configReg | (off & 3)) >>> 0, size);
      },
      write: (off, size, value) => {
        if (this.configReg & 0x80000000) this.dataWrite((this.configReg | (off & 3)) >>> 0, value, size);
      },
    };
  }

  /** pcie_dev_find_by_mmcfg_addr: bus [28:20] (9 bits, as QEMU masks it), devfn [19:12]. */
  private mmcfgDevice(off: number): PCIDevice | undefined {
    const busNum = Math.floor(off / 0x100000) & 0x1ff;
    if (busNum > 0xff) return undefined;
    return this.bus.findDevice(busNum, (off >>> 12) & 0xff);
  }

  /** "pcie-mmcfg-mmio" (pcie_mmcfg_ops): the ECAM window, little-endian, 1 to 4 bytes. */
  mmcfgOps(): MmioOps {
    return {
      read: (off, size) => {
        const dev = this.mmcfgDevice(off);
        if (!dev) return 0xffffffff;
        return configReadCommon(dev, off & 0xfff, configSize(dev), size);
      },
      write: (off, size, value) => {
        const dev = this.mmcfgDevice(off);
        if (dev) configWriteCommon(dev, off & 0xfff, configSize(dev), value, size);
      },
      endianness: 'little',
    };
  }
}
