import { ConfigError } from '../../../base/config-error.js';
import type { AddressSpace } from '../../../memory/address-space.js';
import { bswap32 } from '../../../memory/bswap.js';
import { SpaprTce } from '../../../iommu/spapr/spapr-tce.js';
import type { SpaprPhbDma } from '../../../iommu/spapr/phb-dma.js';
import { PCIBus } from '../../../pci/bus.js';
import type { PCIDevice } from '../../../pci/device.js';
import { configReadCommon, configSize, configWriteCommon } from '../../../pci/host.js';
import { PCIBridge } from '../../../pci/bridge.js';
import {
  PCI_HEADER_TYPE, PCI_HEADER_TYPE_BRIDGE, PCI_PRIMARY_BUS, PCI_SECONDARY_BUS, PCI_SUBORDINATE_BUS,
} from '../../../pci/regs.js';
import type { Machine } from '../../machine.js';
import { spaprPhbDmaOptions, spaprPhbType } from '../../devices/spapr-pci-host-bridge.js';
import { PropError } from '../../properties.js';
import {
  InterruptLines, type Board, type BoardOwnDescription, type BoardType, type PciHotplugHandler, type Range, type SpaprDeviceNode,
} from '../board.js';
import { mainRam } from '../ram.js';
import { registerDrcRtas } from './drc-rtas.js';
import { SPAPR_IRQ_EPOW, SPAPR_IRQ_HOTPLUG, SpaprEventQueue } from './events.js';
import { HcallTable } from './hcall.js';
import { spaprPciDeviceNode } from './pci-dt.js';
import { SpaprPhbHotplug } from './pci-hotplug.js';
import {
  RTAS_IBM_READ_PCI_CONFIG, RTAS_IBM_WRITE_PCI_CONFIG, RTAS_OUT_HW_ERROR, RTAS_OUT_SUCCESS, RTAS_READ_PCI_CONFIG,
  RTAS_WRITE_PCI_CONFIG, RtasTable, type RtasCall, type RtasMemory,
} from './rtas.js';

const MIB = 1024 * 1024;
const GIB = 1024 * MIB;
// include/hw/pci-host/spapr.h and hw/ppc/spapr.c (QEMU 7.2, PHB index 0).
export const SPAPR_PCI_BUID = 0x800000020000000n;
const PHB_NAME = 'pci@800000020000000';
const IO_WIN = { base: 0x200000000000, size: 0x10000 };
const MMIO32_WIN = { base: 0x200080000000, size: 2 * GIB, pciBase: 0x80000000 };
const MMIO64_WIN = { base: 0x210000000000, size: 1024 * GIB };
/** SPAPR_PCI_MSI_WINDOW: where the PHB decodes MSI writes on its DMA side. */
export const SPAPR_PCI_MSI_WINDOW = 0x40000000000;
/** SPAPR_IRQ_PCI_LSI (QEMU 7.2, XICS numbering 0x1000 + 0x200): the PHB's INTA..INTD interrupt sources. */
const SPAPR_IRQ_PCI_LSI = 0x1200;
const SPAPR_NR_IRQS = 0x3000;
const MIN_RMA_SLOF = 128 * MIB;
const FDT_MAX_SIZE = 0x100000;

/**
 * The pseries board (hw/ppc/spapr.c, spapr_pci.c, QEMU 7.2): RAM from 0,
 * one PHB (BUID 0x800000020000000, index 0) whose PCI bus "pci.0" is
 * reached through RTAS config calls (ibm,read-pci-config and friends, with
 * QEMU's argument checks and status codes) and whose windows sit at
 * 0x200000000000 (I/O), 0x200080000000 (32-bit) and 0x210000000000
 * (64-bit). Functions DMA into the PHB's address space
 * ("pci@800000020000000.iommu-root"), which holds the MSI window at
 * 0x40000000000 and the root of each TCE table (src/iommu/spapr): the
 * default 32-bit window and, with DDW, a second window; a bus address no
 * enabled window covers reaches nothing. The TCE hypercalls and DDW RTAS
 * calls are registered by the TCE model; its PHB properties come from
 * `-global spapr-pci-host-bridge.NAME=VALUE`. The target is big-endian.
 */
export class PseriesBoard implements Board {
  readonly name = 'pseries';
  readonly rootBus: PCIBus;
  readonly intc = new InterruptLines('ics', ['ics', '/machine/ics'], SPAPR_NR_IRQS);
  readonly ram: Range[];
  readonly rtas = new RtasTable();
  readonly hcalls = new HcallTable();
  /** The PHB's DMA address space (spapr_pci_dma_iommu) and its root, where TCE windows go. */
  readonly dmaAs: AddressSpace;
  /** The sPAPR TCE model (hypercalls, DDW, windows) and PHB 0's DMA side. */
  readonly tce: SpaprTce;
  readonly phbDma: SpaprPhbDma;
  /** The RTAS event queue (check-exception, event-scan) and the PHB's DRCs. */
  readonly events: SpaprEventQueue;
  readonly phbHotplug: SpaprPhbHotplug;

  constructor(m: Machine) {
    const mem = m.mem;
    m.systemMemory.addSubregion(mainRam(mem, 'ppc_spapr.ram', m.ramSize), 0);
    this.ram = [{ name: 'ppc_spapr.ram', base: 0, size: m.ramSize }];
    const memspace = mem.container(`${PHB_NAME}.mmio`, 1n << 64n);
    const iospace = mem.container(`${PHB_NAME}.io`, IO_WIN.size);
    const sys = m.systemMemory;
    sys.addSubregion(mem.alias(`${PHB_NAME}.io-alias`, iospace, 0, IO_WIN.size), IO_WIN.base);
    sys.addSubregion(mem.alias(`${PHB_NAME}.mmio32-alias`, memspace, MMIO32_WIN.pciBase, MMIO32_WIN.size), MMIO32_WIN.base);
    sys.addSubregion(mem.alias(`${PHB_NAME}.mmio64-alias`, memspace, MMIO64_WIN.base, MMIO64_WIN.size), MMIO64_WIN.base);
    const dmaRoot = mem.container(`${PHB_NAME}.iommu-root`, 1n << 64n);
    this.tce = new SpaprTce({ sys: mem, systemAs: m.systemAs, log: m.log, hcalls: this.hcalls, rtas: this.rtas });
    let opts;
    try {
      opts = spaprPhbDmaOptions(m.registry.resolve(spaprPhbType, m.globalsFor(spaprPhbType.driver)), 0, SPAPR_PCI_BUID);
    } catch (e) {
      if (e instanceof PropError) throw new ConfigError(`-global ${spaprPhbType.driver}`, e.message);
      throw e;
    }
    this.phbDma = this.tce.addPhb(opts, dmaRoot);
    m.iommuInfo.push({ name: 'spapr-tce', info: () => this.tce.info() });
    dmaRoot.addSubregion(mem.mmio('msi', 0x1000, {
      read: () => 0,
      write: (off, _size, value) => {
        m.deliverMsi(BigInt(SPAPR_PCI_MSI_WINDOW + off), value >>> 0);
        const irq = value >>> 0;
        if (irq < SPAPR_NR_IRQS) this.intc.lines[irq]!.pulse();
      },
    }), SPAPR_PCI_MSI_WINDOW);
    this.dmaAs = mem.addressSpace(dmaRoot, PHB_NAME);
    this.rootBus = new PCIBus('pci.0', m.pciContext, false, memspace, iospace, undefined, 0, true);
    // spapr_pci_dma_iommu: one address space per PHB; the PE (and its TCE windows) is the PHB's.
    this.rootBus.setIommu({
      getAddressSpace: (bus, devfn) => {
        this.tce.endpointAdded(0, endpointName(bus, devfn));
        return this.dmaAs;
      },
      deviceRemoved: (bus, devfn) => this.tce.endpointRemoved(0, endpointName(bus, devfn)),
    });
    this.rootBus.setIntxRouting({
      mapIrq: (d, pin) => PCIBus.swizzle(d, pin),
      lines: this.intc.lines.slice(SPAPR_IRQ_PCI_LSI, SPAPR_IRQ_PCI_LSI + 4),
    });
    this.rtas.register(RTAS_READ_PCI_CONFIG, 'read-pci-config', (c) => this.rtasReadConfig(c, false));
    this.rtas.register(RTAS_WRITE_PCI_CONFIG, 'write-pci-config', (c) => this.rtasWriteConfig(c, false));
    this.rtas.register(RTAS_IBM_READ_PCI_CONFIG, 'ibm,read-pci-config', (c) => this.rtasReadConfig(c, true));
    this.rtas.register(RTAS_IBM_WRITE_PCI_CONFIG, 'ibm,write-pci-config', (c) => this.rtasWriteConfig(c, true));
    const as = m.systemAs;
    const real = (a: bigint) => a & 0x0fffffffffffffffn;
    const rtasMem: RtasMemory = {
      readU32: (a) => bswap32(as.read(real(a), 4).lo >>> 0),
      writeU32: (a, v) => void as.write(real(a), 4, bswap32(v >>> 0)),
      writeBytes: (a, d) => void as.writeBytes(real(a), d),
    };
    this.events = new SpaprEventQueue({ epow: this.intc.lines[SPAPR_IRQ_EPOW]!, hotplug: this.intc.lines[SPAPR_IRQ_HOTPLUG]! },
      rtasMem, () => m.clock.now, m.log);
    this.events.register(this.rtas);
    this.phbHotplug = new SpaprPhbHotplug(PHB_NAME, this.rootBus, 0, this.events, m.log, (dev) => {
      // spapr_pci_unplug: reset first (guests that do not wait leave IRQs asserted), then unrealize.
      m.mem.transaction(() => dev.reset());
      dev.bus.unplug(dev);
    });
    registerDrcRtas(this.rtas, (i) => this.phbHotplug.drcByIndex(i), rtasMem);
    m.onDeviceAdded((dev) => {
      if ('bus' in dev && (dev as PCIDevice).bus === this.rootBus) this.phbHotplug.attach(dev as PCIDevice, !m.created);
    });
  }

  /** The PHB's DRCs handle hot-plug on its root bus. */
  pciHotplugHandler(bus: PCIBus): PciHotplugHandler | undefined {
    return bus === this.rootBus ? this.phbHotplug : undefined;
  }

  /** spapr_pci_find_dev: the PHB by BUID, then the function by bus [23:16] and devfn [15:8]. */
  private findDev(buid: bigint, addr: number): PCIDevice | undefined {
    if (buid !== SPAPR_PCI_BUID) return undefined;
    return this.rootBus.findDevice((addr >>> 16) & 0xff, (addr >>> 8) & 0xff);
  }

  /** finish_read_pci_config; the register number carries extended-space bits [27:24] (rtas_pci_cfgaddr). */
  private rtasReadConfig(c: RtasCall, ibm: boolean): void {
    if (ibm ? c.nargs !== 4 || c.nret !== 2 : c.nargs !== 2 || c.nret !== 2) return c.ret(0, RTAS_OUT_HW_ERROR);
    const addr = c.arg(0);
    const buid = ibm ? c.argq(1) : 0n;
    const size = c.arg(ibm ? 3 : 1);
    if (size !== 1 && size !== 2 && size !== 4) return c.ret(0, RTAS_OUT_HW_ERROR);
    const dev = this.findDev(buid, addr);
    const off = ((addr >>> 20) & 0xf00) | (addr & 0xff);
    if (!dev || off % size || off >= configSize(dev)) return c.ret(0, RTAS_OUT_HW_ERROR);
    const val = configReadCommon(dev, off, configSize(dev), size);
    c.ret(0, RTAS_OUT_SUCCESS);
    c.ret(1, val);
  }

  /** finish_write_pci_config. */
  private rtasWriteConfig(c: RtasCall, ibm: boolean): void {
    if (ibm ? c.nargs !== 5 || c.nret !== 1 : c.nargs !== 3 || c.nret !== 1) return c.ret(0, RTAS_OUT_HW_ERROR);
    const addr = c.arg(0);
    const buid = ibm ? c.argq(1) : 0n;
    const size = c.arg(ibm ? 3 : 1);
    const val = c.arg(ibm ? 4 : 2);
    if (size !== 1 && size !== 2 && size !== 4) return c.ret(0, RTAS_OUT_HW_ERROR);
    const dev = this.findDev(buid, addr);
    const off = ((addr >>> 20) & 0xf00) | (addr & 0xff);
    if (!dev || off % size || off >= configSize(dev)) return c.ret(0, RTAS_OUT_HW_ERROR);
    configWriteCommon(dev, off, configSize(dev), val, size);
    c.ret(0, RTAS_OUT_SUCCESS);
  }

  /** spapr_tce_reset and spapr_phb_dma_reset (entries zeroed, only the default window left), DRC resets. */
  reset(): void {
    this.tce.reset();
    // spapr_machine_reset: pending removals complete, the event queue is emptied.
    this.phbHotplug.reset();
    this.events.clear();
  }

  /**
   * spapr_phb_pci_enumerate: at machine reset QEMU numbers the buses below
   * every (single-function) bridge depth first, as PAPR firmware expects
   * them already assigned.
   */
  afterDeviceReset(): void {
    let busNo = 0;
    const walk = (bus: PCIBus): void => {
      for (const d of bus.devices) {
        if (!d || d.cs.get8(PCI_HEADER_TYPE) !== PCI_HEADER_TYPE_BRIDGE || !(d instanceof PCIBridge)) continue;
        busNo++;
        d.cs.maskedWrite(PCI_PRIMARY_BUS, d.bus.number, 1);
        d.cs.maskedWrite(PCI_SECONDARY_BUS, busNo, 1);
        d.cs.maskedWrite(PCI_SUBORDINATE_BUS, busNo, 1);
        walk(d.secondaryBus);
        d.cs.maskedWrite(PCI_SUBORDINATE_BUS, busNo, 1);
      }
    };
    walk(this.rootBus);
  }

  /**
   * The root bus's functions as the device tree describes them
   * (spapr_dt_pci_bus, devfn order). Bridges are left out with what is
   * below them: their nodes (bus ranges, child DRCs) are not modelled.
   */
  private deviceNodes(): SpaprDeviceNode[] {
    const out: SpaprDeviceNode[] = [];
    for (const dev of this.rootBus.devices) {
      if (!dev || dev.isBridge) continue;
      out.push(spaprPciDeviceNode(dev, this.phbHotplug.drcOf(dev)?.index ?? 0, 0));
    }
    return out;
  }

  describe(): BoardOwnDescription {
    const rma = this.ram[0]!.size;
    return {
      ram: this.ram,
      pciHosts: [{
        name: PHB_NAME, rootBus: 'pci.0', busRange: [0, 255], buid: SPAPR_PCI_BUID, index: 0,
        windows: [
          { name: `${PHB_NAME}.mmio32`, kind: 'mmio32', ...MMIO32_WIN },
          { name: `${PHB_NAME}.mmio64`, kind: 'mmio64', ...MMIO64_WIN, pciBase: MMIO64_WIN.base },
          { name: `${PHB_NAME}.io`, kind: 'io', ...IO_WIN, pciBase: 0 },
        ],
        intx: [0, 1, 2, 3].map((i) => SPAPR_IRQ_PCI_LSI + i),
        // spapr_dt_phb: ibm,dma-window from LIOBN#0 as reset leaves it.
        dmaWindow: { liobn: this.phbDma.tables[0]!.liobn, busAddr: Number(this.phbDma.opts.dmaWinAddr), size: Number(this.phbDma.opts.dmaWinSize) },
        ddw: this.phbDma.opts.ddw,
        deviceNodes: this.deviceNodes(),
      }],
      interrupts: { controller: 'ics', lines: SPAPR_NR_IRQS, msi: { name: 'msi', base: SPAPR_PCI_MSI_WINDOW, size: 0x1000 } },
      reserved: [],
      firmware: { dtbAddress: Math.min(rma, 0x80000000) - FDT_MAX_SIZE },
    };
  }
}

/** A function's name in `info iommu` (bus numbers change, so the bus's name and the slot). */
function endpointName(bus: PCIBus, devfn: number): string {
  return `${bus.name} ${(devfn >> 3).toString(16).padStart(2, '0')}.${devfn & 7}`;
}

export const pseriesType: BoardType = {
  names: ['pseries', 'pseries-7.2'],
  qomType: 'pseries-7.2-machine',
  desc: 'pSeries Logical Partition (PAPR compliant) (alias of pseries-7.2)',
  props: [{ name: 'dumpdtb', type: { kind: 'string' }, desc: 'Dump current dtb to a file and quit' }],
  defaultRamSize: 512 * MIB,
  bigEndian: true,
  pcieHotplug: 'native',
  allowZeroBar: true,
  checkRam: (size) => (size < MIN_RMA_SLOF ? 'pSeries SLOF firmware requires >= 80ldMiB guest RMA (Real Mode Area memory)' : undefined),
  build: (m) => new PseriesBoard(m),
};
