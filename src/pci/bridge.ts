import type { AliasRegion, MemoryRegion } from '../memory/region.js';
import { PCIBus } from './bus.js';
import { ConfigSpace, rangesOverlap } from './config-space.js';
import { PCIDevice } from './device.js';
import {
  PCI_BRIDGE_CONTROL, PCI_BRIDGE_CTL_BUS_RESET, PCI_BRIDGE_CTL_DISCARD, PCI_BRIDGE_CTL_DISCARD_SERR,
  PCI_BRIDGE_CTL_DISCARD_STATUS, PCI_BRIDGE_CTL_FAST_BACK, PCI_BRIDGE_CTL_ISA, PCI_BRIDGE_CTL_MASTER_ABORT,
  PCI_BRIDGE_CTL_PARITY, PCI_BRIDGE_CTL_SEC_DISCARD, PCI_BRIDGE_CTL_SERR, PCI_BRIDGE_CTL_VGA, PCI_BRIDGE_CTL_VGA_16BIT,
  PCI_COMMAND, PCI_COMMAND_IO, PCI_COMMAND_MEMORY, PCI_IO_BASE, PCI_IO_BASE_UPPER16, PCI_IO_LIMIT, PCI_IO_LIMIT_UPPER16,
  PCI_IO_RANGE_TYPE_32, PCI_MEMORY_BASE, PCI_MEMORY_LIMIT, PCI_PREF_BASE_UPPER32, PCI_PREF_LIMIT_UPPER32,
  PCI_PREF_MEMORY_BASE, PCI_PREF_MEMORY_LIMIT, PCI_PREF_RANGE_TYPE_64, PCI_PREF_RANGE_TYPE_MASK, PCI_PRIMARY_BUS,
  PCI_SEC_LATENCY_TIMER, PCI_SEC_STATUS, PCI_SECONDARY_BUS, PCI_STATUS, PCI_STATUS_66MHZ, PCI_STATUS_FAST_BACK,
  PCI_SUBORDINATE_BUS, PCI_IO_RANGE_TYPE_MASK,
} from './regs.js';

const SIZE_2_64 = 1n << 64n;
const GIB4 = 1n << 32n;

/** Which forwarding window (PCI-to-PCI Bridge 1.2 sections 3.2.5.6 to 3.2.5.10). */
export type BridgeWindow = 'io' | 'mem' | 'pref';

/**
 * A PCI-to-PCI bridge function (QEMU hw/pci/pci_bridge.c): a type 1
 * header, a secondary bus whose number the guest programs, and forwarding
 * windows that appear in the primary bus's memory / I/O containers as
 * aliases of the secondary containers, only while Command.MEM / Command.IO
 * is set. Subclasses add their capabilities in initBridge().
 */
export abstract class PCIBridge extends PCIDevice {
  secondaryBus!: PCIBus;
  /** The secondary side's containers ("pci_bridge_pci", "pci_bridge_io"). */
  secMem!: MemoryRegion;
  secIo!: MemoryRegion;
  private windows: AliasRegion[] = [];
  /** Whether the secondary bus is PCI Express. */
  protected abstract readonly secondaryExpress: boolean;

  /** Subclass realize after the bridge part (capabilities, BARs). */
  protected abstract initBridge(): void;

  protected override realizeDevice(): void {
    this.initMaskBridge();
    const cs = this.cs;
    ConfigSpace.setBits16(cs.config, PCI_STATUS, PCI_STATUS_66MHZ | PCI_STATUS_FAST_BACK);
    ConfigSpace.setBits16(cs.config, PCI_SEC_STATUS, PCI_STATUS_66MHZ | PCI_STATUS_FAST_BACK);
    const mem = this.ctx.mem;
    this.secMem = mem.container('pci_bridge_pci', SIZE_2_64);
    this.secIo = mem.container('pci_bridge_io', GIB4);
    const kind = this.secondaryExpress ? 'pcie' : 'pci';
    const name = this.id ? this.id : this.ctx.autoBusName(kind);
    this.secondaryBus = new PCIBus(name, this.ctx, this.secondaryExpress, this.secMem, this.secIo, this);
    this.updateWindows();
    this.initBridge();
  }

  /** pci_init_mask_bridge. */
  private initMaskBridge(): void {
    const cs = this.cs;
    cs.wmask.fill(0xff, PCI_PRIMARY_BUS, PCI_PRIMARY_BUS + 4);
    cs.wmask[PCI_IO_BASE] = 0xf0;
    cs.wmask[PCI_IO_LIMIT] = 0xf0;
    ConfigSpace.set16(cs.wmask, PCI_MEMORY_BASE, 0xfff0);
    ConfigSpace.set16(cs.wmask, PCI_MEMORY_LIMIT, 0xfff0);
    ConfigSpace.set16(cs.wmask, PCI_PREF_MEMORY_BASE, 0xfff0);
    ConfigSpace.set16(cs.wmask, PCI_PREF_MEMORY_LIMIT, 0xfff0);
    cs.wmask.fill(0xff, PCI_PREF_BASE_UPPER32, PCI_PREF_BASE_UPPER32 + 8);
    ConfigSpace.setBits16(cs.config, PCI_PREF_MEMORY_BASE, PCI_PREF_RANGE_TYPE_64);
    ConfigSpace.setBits16(cs.config, PCI_PREF_MEMORY_LIMIT, PCI_PREF_RANGE_TYPE_64);
    ConfigSpace.set16(cs.wmask, PCI_BRIDGE_CONTROL, PCI_BRIDGE_CTL_PARITY | PCI_BRIDGE_CTL_SERR | PCI_BRIDGE_CTL_ISA
      | PCI_BRIDGE_CTL_VGA | PCI_BRIDGE_CTL_VGA_16BIT | PCI_BRIDGE_CTL_MASTER_ABORT | PCI_BRIDGE_CTL_BUS_RESET
      | PCI_BRIDGE_CTL_FAST_BACK | PCI_BRIDGE_CTL_DISCARD | PCI_BRIDGE_CTL_SEC_DISCARD | PCI_BRIDGE_CTL_DISCARD_SERR);
    ConfigSpace.set16(cs.w1cmask, PCI_BRIDGE_CONTROL, PCI_BRIDGE_CTL_DISCARD_STATUS);
    cs.cmask[PCI_IO_BASE] = cs.cmask[PCI_IO_BASE]! | PCI_IO_RANGE_TYPE_MASK;
    cs.cmask[PCI_IO_LIMIT] = cs.cmask[PCI_IO_LIMIT]! | PCI_IO_RANGE_TYPE_MASK;
    ConfigSpace.setBits16(cs.cmask, PCI_PREF_MEMORY_BASE, PCI_PREF_RANGE_TYPE_MASK);
    ConfigSpace.setBits16(cs.cmask, PCI_PREF_MEMORY_LIMIT, PCI_PREF_RANGE_TYPE_MASK);
  }

  /** pci_bridge_get_base / pci_bridge_get_limit: the window decoded now. */
  window(w: BridgeWindow): { base: bigint; limit: bigint } {
    const cs = this.cs;
    if (w === 'io') {
      const io = (reg: number, upper: number): bigint => {
        let v = BigInt((cs.get8(reg) & 0xf0) << 8);
        if (cs.get8(reg) & PCI_IO_RANGE_TYPE_32) v |= BigInt(cs.get16(upper)) << 16n;
        return v;
      };
      return { base: io(PCI_IO_BASE, PCI_IO_BASE_UPPER16), limit: io(PCI_IO_LIMIT, PCI_IO_LIMIT_UPPER16) | 0xfffn };
    }
    if (w === 'pref') {
      const pref = (reg: number, upper: number): bigint => {
        const t = cs.get16(reg);
        let v = BigInt(t & 0xfff0) << 16n;
        if (t & PCI_PREF_RANGE_TYPE_64) v |= BigInt(cs.get32(upper)) << 32n;
        return v;
      };
      return { base: pref(PCI_PREF_MEMORY_BASE, PCI_PREF_BASE_UPPER32), limit: pref(PCI_PREF_MEMORY_LIMIT, PCI_PREF_LIMIT_UPPER32) | 0xfffffn };
    }
    return {
      base: BigInt(cs.get16(PCI_MEMORY_BASE) & 0xfff0) << 16n,
      limit: (BigInt(cs.get16(PCI_MEMORY_LIMIT) & 0xfff0) << 16n) | 0xfffffn,
    };
  }

  /** pci_bridge_update_mappings: rebuild the three window aliases. */
  updateWindows(): void {
    const mem = this.ctx.mem;
    const cmd = this.cs.get16(PCI_COMMAND);
    mem.transaction(() => {
      for (const a of this.windows) a.container?.removeSubregion(a);
      this.windows = [];
      const add = (w: BridgeWindow, name: string, space: MemoryRegion, parent: MemoryRegion, enabled: boolean): void => {
        const { base, limit } = this.window(w);
        const size = enabled && limit >= base ? limit + 1n - base : 0n;
        const a = mem.alias(name, space, base, size);
        parent.addSubregion(a, base, 1);
        this.windows.push(a);
      };
      add('pref', 'pci_bridge_pref_mem', this.secMem, this.bus.addressSpaceMem, (cmd & PCI_COMMAND_MEMORY) !== 0);
      add('mem', 'pci_bridge_mem', this.secMem, this.bus.addressSpaceMem, (cmd & PCI_COMMAND_MEMORY) !== 0);
      add('io', 'pci_bridge_io', this.secIo, this.bus.addressSpaceIo, (cmd & PCI_COMMAND_IO) !== 0);
    });
  }

  /** pci_bridge_write_config. */
  override configWrite(addr: number, val: number, len: number): void {
    const oldctl = this.cs.get16(PCI_BRIDGE_CONTROL);
    this.defaultWriteConfig(addr, val, len);
    if (rangesOverlap(addr, len, PCI_COMMAND, 2) || rangesOverlap(addr, len, PCI_IO_BASE, 2)
      || rangesOverlap(addr, len, PCI_MEMORY_BASE, 20) || rangesOverlap(addr, len, PCI_BRIDGE_CONTROL, 2)) {
      this.updateWindows();
    }
    const newctl = this.cs.get16(PCI_BRIDGE_CONTROL);
    if (~oldctl & newctl & PCI_BRIDGE_CTL_BUS_RESET) this.resetSecondaryBus();
  }

  /** Secondary Bus Reset 0 -> 1: every function below is reset (bus_cold_reset). */
  resetSecondaryBus(): void {
    for (const d of this.secondaryBus.allDevices()) d.reset();
    this.secondaryBus.resetIrqs();
  }

  /** pci_bridge_reset: bus numbers, windows closed, bridge control cleared. */
  protected bridgeReset(): void {
    const cs = this.cs;
    cs.set8(PCI_PRIMARY_BUS, 0);
    cs.set8(PCI_SECONDARY_BUS, 0);
    cs.set8(PCI_SUBORDINATE_BUS, 0);
    cs.set8(PCI_SEC_LATENCY_TIMER, 0);
    cs.set8(PCI_IO_BASE, cs.get8(PCI_IO_BASE) & 0x0f);
    cs.set8(PCI_IO_LIMIT, cs.get8(PCI_IO_LIMIT) & 0x0f);
    cs.set16(PCI_MEMORY_BASE, cs.get16(PCI_MEMORY_BASE) & 0x000f);
    cs.set16(PCI_MEMORY_LIMIT, cs.get16(PCI_MEMORY_LIMIT) & 0x000f);
    cs.set16(PCI_PREF_MEMORY_BASE, cs.get16(PCI_PREF_MEMORY_BASE) & 0x000f);
    cs.set16(PCI_PREF_MEMORY_LIMIT, cs.get16(PCI_PREF_MEMORY_LIMIT) & 0x000f);
    cs.set32(PCI_PREF_BASE_UPPER32, 0);
    cs.set32(PCI_PREF_LIMIT_UPPER32, 0);
    cs.set16(PCI_BRIDGE_CONTROL, 0);
  }

  /** pci_bridge_disable_base_limit: base above limit in every window. */
  protected disableBaseLimit(): void {
    const cs = this.cs;
    cs.set8(PCI_IO_BASE, cs.get8(PCI_IO_BASE) | 0xf0);
    cs.set8(PCI_IO_LIMIT, cs.get8(PCI_IO_LIMIT) & ~0xf0);
    cs.set16(PCI_MEMORY_BASE, cs.get16(PCI_MEMORY_BASE) | 0xfff0);
    cs.set16(PCI_MEMORY_LIMIT, cs.get16(PCI_MEMORY_LIMIT) & ~0xfff0);
    cs.set16(PCI_PREF_MEMORY_BASE, cs.get16(PCI_PREF_MEMORY_BASE) | 0xfff0);
    cs.set16(PCI_PREF_MEMORY_LIMIT, cs.get16(PCI_PREF_MEMORY_LIMIT) & ~0xfff0);
    cs.set32(PCI_PREF_BASE_UPPER32, 0);
    cs.set32(PCI_PREF_LIMIT_UPPER32, 0);
  }

  protected override deviceReset(): void {
    this.bridgeReset();
  }

  override reset(): void {
    super.reset();
    this.updateWindows();
    this.secondaryBus.resetIrqs();
  }

  override abortRealize(): void {
    const i = this.secondaryBus ? this.bus.children.indexOf(this.secondaryBus) : -1;
    if (i >= 0) this.bus.children.splice(i, 1);
    super.abortRealize();
  }

  override unrealize(): void {
    for (const d of [...this.secondaryBus.allDevices()]) d.bus.unplug(d);
    this.ctx.mem.transaction(() => {
      for (const a of this.windows) a.container?.removeSubregion(a);
      this.windows = [];
    });
    const siblings = this.bus.children;
    siblings.splice(siblings.indexOf(this.secondaryBus), 1);
    super.unrealize();
  }
}
