import t, { type Test } from 'tap';
import { MemorySystem, MEMTX_OK, type AddressSpace } from '../../../src/memory/index.js';
import { FwCfgIo, FW_CFG_IO_BASE } from '../../../src/machine/firmware/fw-cfg/fw-cfg-io.js';
import { FwCfgMem, VIRT_FW_CFG_BASE } from '../../../src/machine/firmware/fw-cfg/fw-cfg-mem.js';
import type { FwCfg } from '../../../src/machine/firmware/fw-cfg/fw-cfg.js';
import { FW_CFG_DMA_CTL_READ, FW_CFG_DMA_CTL_SELECT, FW_CFG_DMA_CTL_WRITE, FW_CFG_FILE_DIR } from '../../../src/machine/firmware/fw-cfg/fw-cfg-keys.js';
import { repoPath } from '../../helpers/paths.js';
import { directoryIn, loadTranscript, runQtest } from './helpers/qtest-replay.js';

const DATA = 'test/machine/firmware/data';

interface Q35 { fw: FwCfgIo; mem: AddressSpace; io: AddressSpace }
interface Virt { fw: FwCfgMem; mem: AddressSpace }

function q35(): Q35 {
  const sys = new MemorySystem();
  const root = sys.container('system', 2 ** 32);
  root.addSubregion(sys.ram('pc.ram', 0x200000), 0);
  const ioRoot = sys.container('io', 0x10000);
  const mem = sys.addressSpace(root, 'memory');
  const io = sys.addressSpace(ioRoot, 'I/O');
  const fw = new FwCfgIo(sys, { dmaAs: mem });
  fw.map(ioRoot);
  return { fw, mem, io };
}

function virt(): Virt {
  const sys = new MemorySystem();
  const root = sys.container('system', 2 ** 40);
  root.addSubregion(sys.ram('mach-virt.ram', 0x200000), 0x40000000);
  const mem = sys.addressSpace(root, 'memory');
  const fw = new FwCfgMem(sys, { dmaAs: mem });
  fw.map(root);
  return { fw, mem };
}

/** Adds QEMU's files (names and sizes from its recorded directory) in a scrambled order. */
function addQemuFiles(fw: FwCfg, transcriptPath: string): void {
  const have = new Set(fw.fileNames());
  const files = directoryIn(loadTranscript(transcriptPath)).filter((f) => !have.has(f.name));
  const order = [...files].sort((a, b) => (a.name.length * 7) % 11 - (b.name.length * 7) % 11 || (a.name < b.name ? 1 : -1));
  for (const f of order) fw.addFile(f.name, new Uint8Array(f.size).fill(0xa5));
}

function replay(t: Test, path: string, mem: AddressSpace, io: AddressSpace | undefined): void {
  for (const x of loadTranscript(path)) t.equal(runQtest(x.cmd, mem, io), x.answer, x.cmd);
}

t.test('q35: the port I/O fw_cfg answers a QEMU 7.2 qtest transcript byte for byte', async (t) => {
  const path = repoPath(DATA, 'q35-fwcfg.qtest');
  const m = q35();
  addQemuFiles(m.fw, path);
  replay(t, path, m.mem, m.io);
});

t.test('virt: the MMIO fw_cfg answers a QEMU 7.2 qtest transcript byte for byte', async (t) => {
  const path = repoPath(DATA, 'virt-fwcfg.qtest');
  const m = virt();
  addQemuFiles(m.fw, path);
  replay(t, path, m.mem, undefined);
});

t.test('files are sorted by name; selectors follow the order and shift on insertion', async (t) => {
  const { fw, io } = q35();
  const a = fw.addFile('etc/zzz', Uint8Array.of(1, 2, 3));
  const b = fw.addFile('etc/aaa', Uint8Array.of(9));
  t.equal(b, fw.selectorOf('etc/aaa'));
  t.equal(fw.selectorOf('etc/zzz'), a + 1, 'etc/zzz moved up one slot');
  t.same(fw.fileNames(), ['bios-geometry', 'bootorder', 'etc/aaa', 'etc/boot-fail-wait', 'etc/zzz']);
  io.write(FW_CFG_IO_BASE, 2, fw.selectorOf('etc/zzz')!);
  const got = [1, 2, 3, 4].map(() => io.read(FW_CFG_IO_BASE + 1, 1).lo);
  t.same(got, [1, 2, 3, 0], 'data then zeros past the end');
  t.throws(() => fw.addFile('etc/aaa', new Uint8Array(1)), /duplicate fw_cfg file name: etc\/aaa/);
  t.throws(() => fw.addFile('x'.repeat(56), new Uint8Array(1)), /1\.\.55 bytes/);
});

t.test('virt data register: every width reads the stream in string order', async (t) => {
  const { fw, mem } = virt();
  fw.addFile('etc/test', Uint8Array.from([0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99]));
  mem.write(VIRT_FW_CFG_BASE + 8, 2, 0, 0);
  // Selector is big-endian: bytes [hi, lo] in memory.
  const sel = fw.selectorOf('etc/test')!;
  mem.writeBytes(VIRT_FW_CFG_BASE + 8, Uint8Array.of(sel >> 8, sel & 0xff));
  const q = mem.read(VIRT_FW_CFG_BASE, 8);
  t.same([q.lo, q.hi], [0x44332211, 0x88776655], '8 bytes in memory order 11..88');
  const l = mem.read(VIRT_FW_CFG_BASE, 4);
  t.equal(l.lo, 0x99, 'last byte then zero padding');
  t.equal(mem.read(VIRT_FW_CFG_BASE + 4, 4).lo, 0, 'data is readable at offset 0 only');
});

/** Writes a FWCfgDmaAccess (be32 control, be32 length, be64 address). */
function putDesc(mem: AddressSpace, at: number, control: number, length: number, address: number): void {
  const d = Buffer.alloc(16);
  d.writeUInt32BE(control >>> 0, 0);
  d.writeUInt32BE(length, 4);
  d.writeBigUInt64BE(BigInt(address), 8);
  mem.writeBytes(at, Uint8Array.from(d));
}

function control(mem: AddressSpace, at: number): number {
  const b = new Uint8Array(4);
  mem.readBytes(at, b);
  return Buffer.from(b).readUInt32BE(0);
}

t.test('DMA: writable files take guest data; read-only ones and overruns set the error bit', async (t) => {
  const { fw, mem } = virt();
  const seen: string[] = [];
  const store = new Uint8Array(4);
  fw.addFile('etc/writable', store, { writable: true, onWrite: (o, l) => seen.push(`${o}+${l}`) });
  const sel = fw.selectorOf('etc/writable')!;
  const desc = 0x40001000;
  mem.writeBytes(0x40002000, Uint8Array.of(0xde, 0xad, 0xbe, 0xef));
  putDesc(mem, desc, (sel << 16) | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_WRITE, 4, 0x40002000);
  const be = Buffer.alloc(8);
  be.writeBigUInt64BE(BigInt(desc));
  mem.writeBytes(VIRT_FW_CFG_BASE + 16, Uint8Array.from(be));
  t.equal(control(mem, desc), 0, 'completed');
  t.same([...store], [0xde, 0xad, 0xbe, 0xef]);
  t.same(seen, ['0+4']);
  putDesc(mem, desc, (sel << 16) | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_WRITE, 5, 0x40002000);
  mem.writeBytes(VIRT_FW_CFG_BASE + 16, Uint8Array.from(be));
  t.equal(control(mem, desc), 1, 'a write longer than the file fails');
  putDesc(mem, desc, (FW_CFG_FILE_DIR << 16) | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_READ, 4, 0x7000_0000);
  mem.writeBytes(VIRT_FW_CFG_BASE + 16, Uint8Array.from(be));
  t.equal(control(mem, desc), 1, 'a read into unmapped memory fails');
});

t.test('DMA through the x86 ports: high half, then the low half starts the transfer', async (t) => {
  const { fw, mem, io } = q35();
  fw.addFile('etc/blob', Uint8Array.from({ length: 300 }, (_, i) => i & 0xff));
  putDesc(mem, 0x1000, (fw.selectorOf('etc/blob')! << 16) | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_READ, 310, 0x3000);
  t.equal(io.write(FW_CFG_IO_BASE + 4, 4, 0), MEMTX_OK);
  t.equal(control(mem, 0x1000), (fw.selectorOf('etc/blob')! << 16) | 0x0a, 'nothing before the low half');
  t.equal(io.write(FW_CFG_IO_BASE + 8, 4, 0x00100000), MEMTX_OK, 'be32 0x1000');
  t.equal(control(mem, 0x1000), 0);
  const got = new Uint8Array(310);
  mem.readBytes(0x3000, got);
  t.same([...got.subarray(0, 300)], Array.from({ length: 300 }, (_, i) => i & 0xff));
  t.same([...got.subarray(300)], new Array(10).fill(0), 'past the end reads zeros');
});

t.test('select callbacks run when the guest selects the item', async (t) => {
  const { fw, io } = q35();
  let n = 0;
  const sel = fw.addFile('etc/acpi/tables', new Uint8Array(8), { onSelect: () => n++ });
  io.write(FW_CFG_IO_BASE, 2, sel);
  t.equal(n, 1);
});
