#!/usr/bin/env node
// Records the fw_cfg files of a real QEMU machine into a text data file for
// the guest's firmware tests. Needs QEMU; the tests do not.
//   node test/guest/data/record-fwcfg.mjs <out> <qemu-binary> <board: x86|x86-mcfg|arm> -- <qemu args...>
// x86-mcfg first does what SeaBIOS does on q35 before it reads ACPI: it
// enables MMCONFIG by writing PCIEXBAR (MCH 00:00.0 config 0x60, Intel 3
// Series Chipset datasheet 5.1.13) = 0xb0000000 | enable through 0xcf8/0xcfc,
// so that QEMU's tables include an MCFG.
// fw_cfg is read the way firmware reads it: the directory at selector 0x19
// (be32 count, 64-byte entries {be32 size, be16 select, be16 reserved,
// char name[56]}), then each file byte by byte from the data register.
import { spawn, execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';

const [out, qemu, board, dashdash, ...qargs] = process.argv.slice(2);
if (!out || !qemu || !board || dashdash !== '--') {
  console.error('usage: record-fwcfg.mjs <out> <qemu> <x86|arm> -- <args>');
  process.exit(2);
}
const version = execFileSync(qemu, ['--version']).toString().split('\n')[0];
const args = [...qargs, '-display', 'none', '-qtest', 'stdio', '-qtest-log', '/dev/null'];
const proc = spawn(qemu, args, { stdio: ['pipe', 'pipe', 'inherit'] });
let buf = '';
const waiting = [];
proc.stdout.on('data', (d) => {
  buf += d.toString();
  for (;;) {
    const i = buf.indexOf('\n');
    if (i < 0) break;
    const line = buf.slice(0, i);
    buf = buf.slice(i + 1);
    if (line.startsWith('IRQ')) continue;
    waiting.shift()?.(line);
  }
});
const cmd = (c) => new Promise((res) => { waiting.push(res); proc.stdin.write(c + '\n'); });
const ARM_BASE = 0x09020000;
const x86 = board.startsWith('x86');
if (board === 'x86-mcfg') {
  await cmd('outl 0xcf8 0x80000064');
  await cmd('outl 0xcfc 0x0');
  await cmd('outl 0xcf8 0x80000060');
  await cmd('outl 0xcfc 0xb0000001');
}
const select = (s) => x86
  ? cmd(`outw 0x510 0x${s.toString(16)}`)
  : cmd(`writew 0x${(ARM_BASE + 8).toString(16)} 0x${(((s & 0xff) << 8) | (s >> 8)).toString(16)}`);
async function readBytes(n) {
  const lines = [];
  for (let at = 0; at < n; at += 1024) {
    const ps = [];
    for (let i = at; i < Math.min(n, at + 1024); i++) ps.push(x86 ? cmd('inb 0x511') : cmd(`readb 0x${ARM_BASE.toString(16)}`));
    lines.push(...(await Promise.all(ps)));
  }
  return Uint8Array.from(lines.map((l) => {
    const m = /^OK (0x[0-9a-f]+)/.exec(l);
    if (!m) throw new Error(`qtest: ${l}`);
    return Number(m[1]);
  }));
}
await select(0x19);
const cnt = await readBytes(4);
const count = new DataView(cnt.buffer).getUint32(0);
const dir = await readBytes(count * 64);
const dv = new DataView(dir.buffer);
const lines = [
  `# fw_cfg files recorded from ${version}`,
  `# command: ${qemu} ${args.join(' ')}`,
  `# format: "file <select> <size> <name>" then the bytes as hex, 32 per line;`,
  `# trailing zero bytes are left out (the file is <size> bytes); genroms/ contents are not recorded`,
];
for (let i = 0; i < count; i++) {
  const size = dv.getUint32(i * 64);
  const sel = dv.getUint16(i * 64 + 4);
  const nameBytes = dir.subarray(i * 64 + 8, i * 64 + 64);
  const name = Buffer.from(nameBytes.subarray(0, nameBytes.indexOf(0))).toString('latin1');
  await select(sel);
  const data = name.startsWith('genroms/') ? new Uint8Array(0) : await readBytes(size);
  let end = data.length;
  while (end > 0 && data[end - 1] === 0) end--;
  lines.push(`file 0x${sel.toString(16)} ${size} ${name}`);
  const hex = Buffer.from(data.subarray(0, end)).toString('hex');
  for (let p = 0; p < hex.length; p += 64) lines.push(hex.slice(p, p + 64));
}
writeFileSync(out, lines.join('\n') + '\n');
proc.kill();
console.log(`${out}: ${count} files`);
