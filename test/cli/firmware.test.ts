import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { runViommu } from '../../src/cli/main.js';

async function run(args: string[]) {
  let out = '';
  let err = '';
  const code = await runViommu(args, { stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s) } });
  return { code, out, err };
}

const dir = mkdtempSync(join(tmpdir(), 'viommu-fw-cli-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const sum = (b: Buffer): number => b.reduce((a, x) => a + x, 0) & 0xff;

t.test('viommu firmware --out DIR: the default q35 machine\'s tables as SIG.dat, listed as written', async (t) => {
  const out = join(dir, 'q35');
  const r = await run(['firmware', '--out', out]);
  t.equal(r.code, 0);
  const files = ['FACS.dat', 'DSDT.dat', 'FACP.dat', 'APIC.dat', 'MCFG.dat', 'DMAR.dat', 'RSDT.dat', 'RSDP.dat'];
  t.same(readdirSync(out).sort(), [...files].sort());
  t.same(r.out.split('\n').filter((l) => l.startsWith('wrote ')).map((l) => l.split(' ')[1]), files.map((f) => join(out, f)));
  t.match(r.out, /^machine q35 \(pc-q35-7\.2\), 128 MiB RAM\n/);
  const mcfg = readFileSync(join(out, 'MCFG.dat'));
  t.equal(sum(mcfg), 0, 'checksum filled');
  t.equal(Number(mcfg.readBigUInt64LE(44)), 0xb0000000, 'after the firmware set-up: MMCONFIG at 0xb0000000');
  t.equal(readFileSync(join(out, 'FACP.dat')).readUInt32LE(56), 0x600, 'PM base as SeaBIOS programs it');
});

t.test('viommu firmware -- -M virt --out DIR writes the ACPI tables and machine.dtb', async (t) => {
  const out = join(dir, 'virt');
  const r = await run(['firmware', '--', '-M', 'virt', '-device', 'edu', '--out', out]);
  t.equal(r.code, 0, r.err);
  t.same(readdirSync(out).sort(), ['APIC.dat', 'DSDT.dat', 'FACP.dat', 'GTDT.dat', 'IORT.dat', 'MCFG.dat', 'RSDP.dat', 'XSDT.dat', 'machine.dtb']);
  t.equal(readFileSync(join(out, 'machine.dtb')).readUInt32BE(0), 0xd00dfeed);
  const ps = join(dir, 'pseries');
  t.equal((await run(['firmware', '--out', ps, '--', '-M', 'pseries'])).code, 0);
  t.same(readdirSync(ps), ['machine.dtb'], 'pseries: a device tree only');
});

t.test('a JSON config, --reset-state, acpi=off', async (t) => {
  const cfg = join(dir, 'q35.json');
  writeFileSync(cfg, JSON.stringify({ machine: 'q35', devices: [{ driver: 'edu' }] }));
  const out = join(dir, 'reset');
  t.equal((await run(['firmware', cfg, '--out', out, '--reset-state'])).code, 0);
  t.notOk(readdirSync(out).includes('MCFG.dat'), 'no MCFG before the firmware enables PCIEXBAR, as QEMU');
  const off = await run(['firmware', '--out', join(dir, 'off'), '--', '-M', 'q35,acpi=off']);
  t.equal(off.code, 0);
  t.match(off.out, /no firmware tables to write/);
});

t.test('help and usage errors', async (t) => {
  const h = await run(['firmware', '--help']);
  t.equal(h.code, 0);
  t.match(h.out, /^usage: viommu firmware \[options\] \[CONFIG\.json \| -- QEMU-ARGS\.\.\.\]/);
  t.match(h.out, /--out DIR/);
  t.match((await run(['--help'])).out, /\n {2}firmware {2}/, 'listed by viommu --help');
  const missing = await run(['firmware', '--', '-M', 'virt']);
  t.same([missing.code, missing.err], [2, 'viommu: firmware: --out DIR is required\n']);
  const bad = await run(['firmware', '--out', join(dir, 'x'), '--', '-M', 'nosuch']);
  t.equal(bad.code, 2);
  t.match(bad.err, /unsupported machine type/);
  t.match((await run(['firmware', '--outdir', 'x'])).err, /viommu: firmware: unknown option '--outdir'/);
});
