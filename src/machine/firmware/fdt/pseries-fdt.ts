import { SPAPR_IRQ_EPOW, SPAPR_IRQ_HOTPLUG } from '../../boards/pseries/events.js';
import type { FdtNode } from './fdt.js';
import { fdtU64Cells } from './fdt.js';
import { intxSwizzle, pciRanges, type FdtContributor } from './fdt-build.js';

/** XICS phandle QEMU uses (PHANDLE_INTC, hw/ppc/spapr.c). */
export const SPAPR_PHANDLE_INTC = 0x1111;
/** PCI slots in the PHB's INTx map (PCI_SLOT_MAX). */
const PCI_SLOT_MAX = 32;
/** ibm,ddw-extensions: count 2, reset-pe-dma-window token, query output extension 1 (spapr_pci.c). */
const DDW_EXT_QUERY_OUT_SIZE = 1;

function token(tokens: readonly (readonly [string, number])[], name: string): number {
  const t = tokens.find(([n]) => n === name);
  if (!t) throw new Error(`no RTAS token for ${name}`);
  return t[1];
}

const root: FdtContributor = {
  name: 'root',
  build({ fdt }) {
    fdt.root.u32('#size-cells', 2).u32('#address-cells', 2).string('vm,uuid', '00000000-0000-0000-0000-000000000000')
      .string('compatible', 'qemu,pseries').string('model', 'IBM pSeries (emulated by qemu)').string('device_type', 'chrp');
  },
};

/** /chosen reduced to what PCI probing reads (QEMU also sets CAS vectors, graphics and rng-seed). */
const chosen: FdtContributor = {
  name: 'chosen',
  build({ fdt }) {
    fdt.root.node('chosen').u32('linux,pci-probe-only', 0);
  },
};

/** The hypercall sets QEMU advertises (spapr_dt_rtas, hypertas); hcall-tce / hcall-multi-tce are the TCE ones. */
const HYPERTAS = ['hcall-pft', 'hcall-term', 'hcall-dabr', 'hcall-interrupt', 'hcall-tce', 'hcall-vio', 'hcall-splpar',
  'hcall-join', 'hcall-bulk', 'hcall-set-mode', 'hcall-sprg0', 'hcall-copy', 'hcall-debug', 'hcall-vphn',
  'hcall-multi-tce', 'hcall-hpt-resize', 'hcall-watchdog'];

/** /rtas: every token (highest first, as QEMU's blob lists them) and the hypercall sets. */
const rtas: FdtContributor = {
  name: 'rtas',
  build({ fdt, desc }) {
    const n = fdt.root.node('rtas');
    for (const [name, value] of [...desc.spapr!.rtasTokens].reverse()) n.u32(name, value);
    n.u32('rtas-error-log-max', 0x800).strings('ibm,hypertas-functions', ...HYPERTAS);
  },
};

/**
 * /event-sources (spapr_dt_events): the EPOW and hot-plug interrupt
 * sources whose logs the guest fetches with check-exception.
 */
const eventSources: FdtContributor = {
  name: 'event-sources',
  build({ fdt }) {
    const n = fdt.root.node('event-sources').u32('interrupt-ranges', SPAPR_IRQ_EPOW, 1, SPAPR_IRQ_HOTPLUG, 1)
      .u32('#interrupt-cells', 2).empty('interrupt-controller');
    n.node('hot-plug-events').u32('interrupts', SPAPR_IRQ_HOTPLUG, 0);
    n.node('epow-events').u32('interrupts', SPAPR_IRQ_EPOW, 0);
  },
};

/** A count-prefixed list of NUL-terminated strings (spapr_dt_drc's ibm,drc-names / ibm,drc-types). */
function countedStrings(list: readonly string[]): Uint8Array {
  const body = new TextEncoder().encode(list.map((x) => `${x}\0`).join(''));
  const out = new Uint8Array(4 + body.length);
  new DataView(out.buffer).setUint32(0, list.length);
  out.set(body, 4);
  return out;
}

/**
 * spapr_dt_drc for a PHB's PCI connectors (PAPR+ 13.5.2): one DRC per devfn
 * of the root bus, index 0x40000000 | (PHB index << 16) | devfn, name "C" +
 * id, type "28", power domain -1 (live insertion). QEMU lists them in its
 * QOM hash-table order; viommu in devfn order.
 */
function drcProps(n: FdtNode, phbIndex: number): void {
  const ids = Array.from({ length: 256 }, (_, devfn) => (phbIndex << 16) | devfn);
  n.bytes('ibm,drc-types', countedStrings(ids.map(() => '28')))
    .bytes('ibm,drc-names', countedStrings(ids.map((id) => `C${id}`)))
    .u32('ibm,drc-power-domains', ids.length, ...ids.map(() => 0xffffffff))
    .u32('ibm,drc-indexes', ids.length, ...ids.map((id) => (0x40000000 | id) >>> 0));
}

/** /cpus with one node per CPU, reduced to identity (QEMU adds caches, page sizes, PA features). */
const cpus: FdtContributor = {
  name: 'cpus',
  build({ fdt, desc }) {
    const n = fdt.root.node('cpus').u32('#size-cells', 0).u32('#address-cells', 1);
    for (let i = 0; i < desc.cpus; i++) {
      n.node(`PowerPC,POWER9@${i.toString(16)}`).u32('ibm,ppc-interrupt-server#s', i).empty('64-bit')
        .string('status', 'okay').string('device_type', 'cpu').u32('reg', i);
    }
  },
};

/**
 * A PHB (hw/ppc/spapr_pci.c spapr_dt_phb): reg is the BUID with size 0,
 * ranges for PIO / 32-bit / 64-bit MMIO, the 32-slot INTx map onto the
 * PHB's LSIs, and the DMA description: ibm,dma-window <LIOBN, bus address
 * (2 cells), size (2 cells)> with ibm,#dma-address-cells / -size-cells 2,
 * and, with DDW, ibm,ddw-applicable <query create remove> and
 * ibm,ddw-extensions <2 reset 1>.
 */
function phb(n: FdtNode, h: Parameters<FdtContributor['build']>[0]['desc']['pciHosts'][number], tokens: readonly (readonly [string, number])[]): void {
  const s = h.spapr!;
  const map: number[] = [];
  for (let slot = 0; slot < PCI_SLOT_MAX; slot++) {
    for (let pin = 1; pin <= 4; pin++) map.push(slot << 11, 0, 0, pin, SPAPR_PHANDLE_INTC, s.lsiBase + intxSwizzle(slot, pin), 1);
  }
  drcProps(n, s.index);
  n.u32('#size-cells', 2).u32('#address-cells', 3).u32('qemu,phb-enumerated', 1)
    .u32('ibm,dma-window', s.dmaWindow.liobn, ...fdtU64Cells(s.dmaWindow.busAddr), ...fdtU64Cells(s.dmaWindow.size))
    .u32('ibm,#dma-size-cells', 2).u32('ibm,#dma-address-cells', 2)
    .u32('interrupt-map', ...map).u32('interrupt-map-mask', 0xf800, 0, 0, 0xffffffff);
  if (s.ddw) {
    n.u32('ibm,ddw-extensions', 2, token(tokens, 'ibm,reset-pe-dma-window'), DDW_EXT_QUERY_OUT_SIZE)
      .u32('ibm,ddw-applicable', token(tokens, 'ibm,query-pe-dma-window'), token(tokens, 'ibm,create-pe-dma-window'),
        token(tokens, 'ibm,remove-pe-dma-window'));
  }
  n.u32('ibm,pe-total-#msi', 0xd00).u32('ibm,pci-config-space-type', 1)
    .u64('reg', s.buid, 0).u32('ranges', ...pciRanges(h.windows)).u32('bus-range', h.busStart, h.busEnd)
    .empty('used-by-rtas').u32('#interrupt-cells', 1).string('compatible', 'IBM,Logical_PHB').string('device_type', 'pci');
  // spapr_dt_pci_bus: a node per function, the same one configure-connector hands out for a hot-added one.
  for (const d of s.deviceNodes ?? []) {
    const c = n.node(d.name);
    for (const [name, value] of d.props) c.bytes(name, value);
  }
}

const phbs: FdtContributor = {
  name: 'pci',
  build({ fdt, desc }) {
    for (const h of desc.pciHosts) phb(fdt.root.node(`pci@${h.spapr!.buid.toString(16)}`), h, desc.spapr!.rtasTokens);
  },
};

/** /vdevice, the VIO bus (no VIO devices are modelled; QEMU's default nvram is left out). */
const vdevice: FdtContributor = {
  name: 'vdevice',
  build({ fdt }) {
    fdt.root.node('vdevice').empty('interrupt-controller').u32('#interrupt-cells', 2).u32('#size-cells', 0)
      .u32('#address-cells', 1).string('compatible', 'IBM,vdevice').string('device_type', 'vdevice');
  },
};

/** Memory nodes with NUMA node 0 associativity (spapr_populate_memory_node). */
const memory: FdtContributor = {
  name: 'memory',
  build({ fdt, desc }) {
    for (const r of desc.ram) {
      fdt.root.node(`memory@${r.base.toString(16)}`).u32('ibm,associativity', 4, 0, 0, 0, 0).u64('reg', r.base, r.size)
        .string('device_type', 'memory');
    }
  },
};

/** The XICS presentation controller the INTx map points at. */
const intc: FdtContributor = {
  name: 'interrupt-controller',
  build({ fdt, desc }) {
    const n = fdt.root.node('interrupt-controller');
    n.phandle(SPAPR_PHANDLE_INTC);
    n.u32('linux,phandle', SPAPR_PHANDLE_INTC).u32('#interrupt-cells', 2).u32('ibm,interrupt-server-ranges', 0, desc.cpus)
      .empty('interrupt-controller').string('compatible', 'IBM,ppc-xicp')
      .string('device_type', 'PowerPC-External-Interrupt-Presentation');
  },
};

/**
 * pseries's device tree in QEMU 7.2's node order, reduced: PCI DRCs only
 * (no CPU or memory DRCs), no bridge nodes, no persistent memory,
 * CAS vectors or CPU cache/MMU details, which do not concern DMA. A vIOMMU
 * issue (DDW changes, VIO windows) adds a contributor after `pci`.
 */
export const PSERIES_FDT_NODES: readonly FdtContributor[] = Object.freeze([root, chosen, rtas, eventSources, cpus, phbs, vdevice, memory, intc]);
