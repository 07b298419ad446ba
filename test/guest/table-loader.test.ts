import t from 'tap';
import { runTableLoader, type LoaderEnv } from '../../src/guest/fw/table-loader.js';
import { byteSum } from '../../src/guest/util/bytes.js';
import { ok, fail } from '../../src/guest/util/result.js';
import { loadRecordedFwCfg } from './fake/fw-cfg.js';
import { repoPath } from '../helpers/paths.js';

function env(files: Map<string, Uint8Array>, mem: Map<number, Uint8Array>): LoaderEnv & { next: number } {
  const e = {
    next: 0x10_0000,
    readFile: (n: string) => (files.has(n) ? ok(files.get(n)!) : fail(`no file '${n}'`)),
    alloc(size: number, align: number) {
      e.next = Math.ceil(e.next / align) * align;
      const a = e.next;
      e.next += size;
      return a;
    },
    writeMem: (addr: number, b: Uint8Array) => {
      mem.set(addr, Uint8Array.from(b));
    },
  };
  return e;
}

function recorded(name: string): Map<string, Uint8Array> {
  return new Map(loadRecordedFwCfg(repoPath('test/guest/data', name)).map((f) => [f.name, f.data]));
}

function cmd(command: number, fill: (v: DataView, b: Uint8Array) => void): Uint8Array {
  const b = new Uint8Array(128);
  const v = new DataView(b.buffer);
  v.setUint32(0, command, true);
  fill(v, b);
  return b;
}
const name = (b: Uint8Array, off: number, s: string): void => {
  for (let i = 0; i < s.length; i++) b[off + i] = s.charCodeAt(i);
};
const alloc = (file: string, align = 16, zone = 1): Uint8Array => cmd(1, (v, b) => {
  name(b, 4, file);
  v.setUint32(60, align, true);
  b[64] = zone;
});
const pointer = (dest: string, src: string, offset: number, size: number): Uint8Array => cmd(2, (v, b) => {
  name(b, 4, dest);
  name(b, 60, src);
  v.setUint32(116, offset, true);
  b[120] = size;
});
const script = (...c: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(128 * c.length);
  c.forEach((x, i) => out.set(x, i * 128));
  return out;
};

t.test("QEMU 7.2's q35 loader script: files placed, pointers patched, every table checksum zero", async (t) => {
  const files = recorded('q35-mcfg-edu.fwcfg.txt');
  const mem = new Map<number, Uint8Array>();
  const r = runTableLoader(files.get('etc/table-loader')!, env(files, mem));
  if (!r.ok) throw new Error(r.error);
  t.same(r.value.commands, { allocate: 2, addPointer: 9, addChecksum: 8, writePointer: 0, skipped: 0 });
  const rsdp = r.value.files.get('etc/acpi/rsdp')!;
  const tables = r.value.files.get('etc/acpi/tables')!;
  t.equal(rsdp.zone, 'fseg');
  t.equal(rsdp.addr % 16, 0, 'RSDP aligned as asked (16)');
  const rb = mem.get(rsdp.addr)!;
  t.equal(byteSum(rb, 0, 20), 0, 'the RSDP checksum was filled in');
  const rsdtAddr = new DataView(rb.buffer).getUint32(16, true);
  const tb = mem.get(tables.addr)!;
  const rsdtOff = rsdtAddr - tables.addr;
  t.equal(String.fromCharCode(...tb.subarray(rsdtOff, rsdtOff + 4)), 'RSDT', 'the RSDT pointer was relocated into guest memory');
  const len = new DataView(tb.buffer).getUint32(rsdtOff + 4, true);
  t.equal(byteSum(tb, rsdtOff, len), 0);
  for (let i = rsdtOff + 36; i < rsdtOff + len; i += 4) {
    const a = new DataView(tb.buffer).getUint32(i, true) - tables.addr;
    const l = new DataView(tb.buffer).getUint32(a + 4, true);
    t.equal(byteSum(tb, a, l), 0, `${String.fromCharCode(...tb.subarray(a, a + 4))} checksum`);
  }
});

t.test('malformed scripts are rejected as a whole', async (t) => {
  const files = new Map([['a', new Uint8Array(16)], ['b', new Uint8Array(8)]]);
  const run = (s: Uint8Array): string => {
    const mem = new Map<number, Uint8Array>();
    const r = runTableLoader(s, env(files, mem));
    t.equal(mem.size, 0, 'nothing is written when the script is bad');
    return r.ok ? 'ok' : r.error;
  };
  t.match(run(script(alloc('a'), pointer('a', 'b', 4, 4))), /'b', which no ALLOCATE placed/);
  t.match(run(script(alloc('a'), alloc('b'), pointer('a', 'b', 14, 4))), /outside 'a'/);
  t.match(run(script(alloc('a'), alloc('b'), pointer('a', 'b', 0, 3))), /pointer size 3/);
  t.match(run(script(alloc('a', 3))), /not a power of two/);
  t.match(run(script(alloc('a', 16, 7))), /unknown allocation zone 7/);
  t.match(run(script(alloc('nope'))), /no file 'nope'/);
  t.match(run(script(alloc('a'), cmd(3, (v, b) => {
    name(b, 4, 'a');
    v.setUint32(60, 2, true);
    v.setUint32(64, 8, true);
    v.setUint32(68, 16, true);
  }))), /checksum .* outside 'a'/);
  t.match(run(new Uint8Array(100)), /not a whole number/);
});

t.test('ADD_POINTER adds the source address; unknown commands are skipped', async (t) => {
  const files = new Map([['a', new Uint8Array(16)], ['b', new Uint8Array(8)]]);
  files.get('a')![4] = 0x10;
  const mem = new Map<number, Uint8Array>();
  const e = env(files, mem);
  const r = runTableLoader(script(alloc('a'), alloc('b'), pointer('a', 'b', 4, 8), cmd(0x77, () => {})), e);
  if (!r.ok) throw new Error(r.error);
  const a = mem.get(r.value.files.get('a')!.addr)!;
  t.equal(new DataView(a.buffer).getUint32(4, true), r.value.files.get('b')!.addr + 0x10);
  t.equal(r.value.commands.skipped, 1);
});
