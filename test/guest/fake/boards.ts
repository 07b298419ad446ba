import { repoPath } from '../../helpers/paths.js';
import { DmaOracle } from '../../../src/guest/oracle/oracle.js';
import { FakeEdu } from './edu.js';
import { FakeFwCfg, loadRecordedDtb, loadRecordedFwCfg } from './fw-cfg.js';
import { FakeMachine } from './machine.js';
import { FakeFn, FakePciHost } from './pci.js';
import { TestIommuHw } from './test-iommu-hw.js';

export const TIOMMU_BASE = 0xfed0_0000;

export interface Board {
  readonly m: FakeMachine;
  readonly host: FakePciHost;
  readonly edus: FakeEdu[];
  readonly oracle: DmaOracle;
  readonly hw: TestIommuHw | undefined;
  readonly fwcfg: FakeFwCfg | undefined;
}

export interface BoardOptions {
  /** Put the test IOMMU in front of the edus' DMA. */
  readonly iommu?: boolean;
  /** Number of edu devices on the root bus (slots 2, 3, ...). */
  readonly edus?: number;
  /** fw_cfg data file under test/guest/data (q35). */
  readonly fwcfg?: string;
  /** The fake edus' dma_mask property (default 28 bits, as QEMU's). */
  readonly eduMask?: number;
  /** Give the edus a PCIe capability and PASID (8 bits). */
  readonly pasid?: boolean;
  /** A PCI function 1b36:00fe at 00:07.0 standing for an IOMMU that is itself a PCI device. */
  readonly iommuFunction?: boolean;
}

function attachEdus(m: FakeMachine, host: FakePciHost, n: number, hw: TestIommuHw | undefined, oracle: DmaOracle, pasid = false, mask = 2 ** 28 - 1, bigEndian = false): FakeEdu[] {
  const edus: FakeEdu[] = [];
  for (let i = 0; i < n; i++) {
    const e = new FakeEdu(m, mask, pasid, bigEndian);
    host.add(host.root, 2 + i, 0, e.fn);
    e.bm = m.busMasterSpace(`edu${i}`, hw?.iommuRegion);
    e.observer = oracle;
    edus.push(e);
  }
  return edus;
}

/** q35 as the guest sees it: the MCH (PCIEXBAR), 0xcf8, fw_cfg with recorded QEMU tables, edus, optionally the test IOMMU. */
export function fakeQ35(o: BoardOptions = {}): Board {
  const m = new FakeMachine('q35');
  const host = new FakePciHost(m);
  m.io.push(host.cf8());
  const mch = host.add(host.root, 0, 0, new FakeFn({ vendor: 0x8086, device: 0x29c0, classCode: 0x060000 }));
  for (let i = 0x60; i < 0x68; i++) mch.wmask[i] = 0xff;
  let ecamMapped = false;
  mch.onWrite = (off) => {
    if (off !== 0x60 || ecamMapped || !(mch.cfg[0x60]! & 1)) return;
    ecamMapped = true;
    m.addMmio((mch.read(0x60, 4) & 0xf000_0000) >>> 0, host.ecam(256));
  };
  const oracle = new DmaOracle(() => m.clock.now, m.log);
  const hw = o.iommu ? new TestIommuHw(m) : undefined;
  if (hw) m.addMmio(TIOMMU_BASE, hw.region);
  const edus = attachEdus(m, host, o.edus ?? 1, hw, oracle, o.pasid);
  if (o.iommuFunction) host.add(host.root, 7, 0, new FakeFn({ vendor: 0x1b36, device: 0x00fe, classCode: 0x088000 }));
  const fwcfg = new FakeFwCfg(m, loadRecordedFwCfg(repoPath('test/guest/data', o.fwcfg ?? 'q35-mcfg-edu.fwcfg.txt')));
  m.io.push(fwcfg.io());
  return { m, host, edus, oracle, hw, fwcfg };
}

/** Arm virt: RAM at 1 GiB, the recorded virt DTB (ECAM at 0x4010000000, fw_cfg at 0x09020000), edus. */
export function fakeVirt(o: BoardOptions & { dtb?: string } = {}): Board {
  const m = new FakeMachine('virt', 64 << 20, 0x4000_0000);
  m.fdt = loadRecordedDtb(repoPath('test/guest/data', o.dtb ?? 'virt-edu.dtb.txt'));
  const host = new FakePciHost(m);
  m.addMmio(0x40_1000_0000, host.ecam(256));
  const fwcfg = new FakeFwCfg(m, loadRecordedFwCfg(repoPath('test/guest/data/virt-edu.fwcfg.txt')));
  m.addMmio(0x0902_0000, fwcfg.mmio());
  const oracle = new DmaOracle(() => m.clock.now, m.log);
  const hw = o.iommu ? new TestIommuHw(m) : undefined;
  const edus = attachEdus(m, host, o.edus ?? 1, hw, oracle, false, o.eduMask);
  return { m, host, edus, oracle, hw, fwcfg };
}

/** pseries: the recorded DTB and RTAS ibm,read/write-pci-config on the PHB (BUID 0x800000020000000). */
export function fakePseries(): Board {
  const m = new FakeMachine('pseries');
  m.fdt = loadRecordedDtb(repoPath('test/guest/data/pseries-edu.dtb.txt'));
  const host = new FakePciHost(m, 0x2000_0000_0000);
  // BUID 0x0800000020000000: two cells, compared as such (it is beyond 2^53).
  m.rtas = (token, args) => {
    const addr = args[0]!;
    const reg = (addr & 0xff) | ((addr >>> 20) & 0xf00);
    const bus = (addr >>> 16) & 0xff;
    const df = (addr >>> 8) & 0xff;
    if (args[1] !== 0x0800_0000 || args[2] !== 0x2000_0000) return [-3];
    if (token === 0x2016) return [0, host.read(bus, df, reg, args[3]!)];
    if (token === 0x2017) {
      host.write(bus, df, reg, args[3]!, args[4]!);
      return [0];
    }
    return [-1];
  };
  const oracle = new DmaOracle(() => m.clock.now, m.log);
  const edus = attachEdus(m, host, 1, undefined, oracle, false, 2 ** 28 - 1, true);
  return { m, host, edus, oracle, hw: undefined, fwcfg: undefined };
}
