#!/usr/bin/env node
// Records reference answers from Debian's QEMU 7.2 into test data. Run by
// hand on a machine that has QEMU; the tests only read the results.
//
//   node test/machine/data/record.mjs qtest test/machine/data/qtest/q35-edu.qtest
//   node test/machine/data/record.mjs cmdline test/machine/data/cmdline-errors.in
//
// A .qtest script starts with header lines:
//   # qemu: qemu-system-x86_64
//   # args: -machine q35 -nodefaults -display none -device edu   (used by QEMU and viommu)
//   # record-args: -S                                            (QEMU only; HLT-BIOS is a 64 KiB
//                                                                  BIOS that halts at once; CEDE-BIOS a
//                                                                  pseries firmware that loops on H_CEDE,
//                                                                  so the vCPU runs and RCU makes progress)
//   # qmp: on                                                     (a QMP monitor beside qtest)
// then one qtest command per line ("#sleep MS" pauses the recorder only). "clock_step N" is not sent: Debian's QEMU
// is built without accel=qtest, so the recorder lets N ns (x3, + 200 ms) of
// real time pass and writes the answer accel=qtest gives ("OK <sum of steps>").
// The transcript (.txt next to the script) has "> command" and "< answer"
// lines; asynchronous "IRQ ..." lines appear where QEMU sent them. With
// "# qmp: on", a line "qmp {JSON}" goes to QMP; its reply and any event are
// "< qmp {JSON}" lines, normalised (re-serialised, event timestamps dropped)
// the same way test/machine/transcript.ts normalises viommu's.
import { spawn, execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';

const [mode, file] = process.argv.slice(2);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function hltBios() {
  const dir = mkdtempSync(join(tmpdir(), 'viommu-rec-'));
  const b = Buffer.alloc(65536);
  Buffer.from([0xfa, 0xf4, 0xeb, 0xfd]).copy(b, 65536 - 16); // cli; hlt; jmp $-2 at the reset vector
  const p = join(dir, 'hlt.bin');
  writeFileSync(p, b);
  return p;
}

function cedeBios() {
  const dir = mkdtempSync(join(tmpdir(), 'viommu-rec-'));
  const b = Buffer.alloc(65536);
  // li r3,H_CEDE (0xe0); sc 1: every 8 bytes, so an interrupt vector lands on the pair too.
  for (let i = 0; i < b.length; i += 8) {
    b.writeUInt32BE(0x386000e0, i);
    b.writeUInt32BE(0x44000022, i + 4);
  }
  const p = join(dir, 'cede.bin');
  writeFileSync(p, b);
  return p;
}

/** A QMP line as transcripts keep it: re-serialised, without the event timestamp. */
function normaliseQmp(line) {
  const o = JSON.parse(line);
  delete o.timestamp;
  return JSON.stringify(o);
}

function version(bin) {
  return execFileSync(bin, ['--version'], { encoding: 'utf8' }).split('\n')[0];
}

async function recordQtest(path) {
  const text = readFileSync(path, 'utf8');
  const header = {};
  const cmds = [];
  for (const line of text.split('\n')) {
    const h = /^# (qemu|args|record-args|qmp): (.*)$/.exec(line);
    if (h) header[h[1]] = h[2];
    else if (/^#sleep \d+$/.test(line)) cmds.push(line);
    else if (line && !line.startsWith('#')) cmds.push(line);
  }
  const bin = header.qemu;
  const recordArgs = (header['record-args'] ?? '').replace('HLT-BIOS', hltBios()).replace('CEDE-BIOS', cedeBios());
  const qmpSock = join(mkdtempSync(join(tmpdir(), 'viommu-rec-')), 'qmp.sock');
  const argv = [...header.args.split(' '), ...recordArgs.split(' ').filter(Boolean), '-qtest', 'stdio', '-qtest-log', 'none',
    ...(header.qmp === 'on' ? ['-qmp', `unix:${qmpSock},server=on,wait=off`] : [])];
  const p = spawn(bin, argv);
  let buf = '';
  const lines = [];
  let wake = null;
  p.stdout.setEncoding('utf8');
  p.stdout.on('data', (d) => {
    buf += d;
    for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
      lines.push(buf.slice(0, i));
      buf = buf.slice(i + 1);
    }
    wake?.();
  });
  let stderr = '';
  p.stderr.on('data', (d) => { stderr += d; });
  const out = [
    `# recorded from ${version(bin)}`,
    `# command: ${bin} ${argv.join(' ')}`.replace(/\/tmp\/viommu-rec-[^/]+\/hlt\.bin/, 'HLT-BIOS'),
    `# args: ${header.args}`,
    '# clock_step answers are what accel=qtest gives (Debian QEMU has no accel=qtest; real time passed instead)',
  ];
  let clock = 0n;
  const qmpLines = [];
  let qmpConn;
  if (header.qmp === 'on') {
    await sleep(500);
    qmpConn = net.connect(qmpSock);
    let qbuf = '';
    qmpConn.setEncoding('utf8');
    qmpConn.on('data', (d) => {
      qbuf += d;
      for (let i = qbuf.indexOf('\n'); i >= 0; i = qbuf.indexOf('\n')) {
        const l = qbuf.slice(0, i).trim();
        qbuf = qbuf.slice(i + 1);
        if (l && !l.startsWith('{"QMP"')) qmpLines.push(normaliseQmp(l));
      }
    });
    qmpConn.write('{"execute": "qmp_capabilities"}\n');
    await sleep(300);
    qmpLines.splice(0);
  }
  const flushQmp = async (untilReply) => {
    for (let t = 0; t < 100 && untilReply && !qmpLines.some((l) => l.startsWith('{"return"') || l.startsWith('{"error"')); t++) await sleep(20);
    await sleep(untilReply ? 50 : 20);
    for (const l of qmpLines.splice(0)) out.push(`< qmp ${l}`);
  };
  const next = async () => {
    for (;;) {
      const i = lines.findIndex((l) => !l.startsWith('IRQ '));
      if (i >= 0) return lines.splice(0, i + 1);
      const got = await Promise.race([new Promise((r) => { wake = r; }).then(() => true), sleep(5000).then(() => false)]);
      wake = null;
      if (!got) throw new Error(`no answer from QEMU; stderr: ${stderr}`);
    }
  };
  for (const cmd of cmds) {
    if (cmd.startsWith('#sleep ')) {
      // Lets a QEMU worker thread finish (edu's factorial); viommu computes at once.
      await sleep(Number(cmd.slice(7)));
      for (const l of lines.splice(0)) out.push(`< ${l}`);
      if (qmpConn) await flushQmp(false);
      continue;
    }
    out.push(`> ${cmd}`);
    if (cmd.startsWith('qmp ')) {
      qmpConn.write(cmd.slice(4) + '\n');
      await flushQmp(true);
      continue;
    }
    const step = /^clock_step (\d+)$/.exec(cmd);
    if (step) {
      await sleep(Number(BigInt(step[1]) / 1000000n) * 3 + 200);
      for (const l of lines.splice(0)) out.push(`< ${l}`);
      clock += BigInt(step[1]);
      out.push(`< OK ${clock}`);
      continue;
    }
    p.stdin.write(cmd + '\n');
    for (const l of await next()) out.push(`< ${l}`);
    if (qmpConn) await flushQmp(false);
  }
  qmpConn?.end();
  await sleep(100);
  for (const l of lines.splice(0)) out.push(`< ${l}`);
  p.stdin.end();
  p.kill();
  writeFileSync(path.replace(/\.qtest$/, '.txt'), out.join('\n') + '\n');
}

async function recordCmdline(path) {
  // Each line: BINARY ARGS... ; records QEMU's first stderr line(s) and exit status.
  const out = [];
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const [bin, ...args] = line.split(' ');
    const r = await new Promise((resolve) => {
      const p = spawn(bin, [...args, '-nodefaults', '-display', 'none', '-S', '-qtest', 'stdio', '-qtest-log', 'none']);
      let err = '';
      p.stderr.on('data', (d) => { err += d; });
      p.on('exit', (code) => resolve({ code, err }));
      setTimeout(() => {
        p.kill();
        resolve({ code: 0, err });
      }, 1500);
    });
    const msg = r.err.split('\n').filter((l) => !/TCG doesn't support|short-form boolean|Please use/.test(l)).join('\n').trim();
    out.push(`$ ${args.join(' ')}`);
    out.push(r.code === 0 ? '= accepted' : msg.replace(/^qemu-system-[a-z0-9_]+: /gm, ''));
  }
  writeFileSync(path.replace(/\.in$/, '.txt'), `# recorded from ${version('qemu-system-x86_64')}\n` + out.join('\n') + '\n');
}

async function recordHmp(path) {
  // "# qemu:" and "# args:" headers, then monitor commands; output per command.
  const text = readFileSync(path, 'utf8');
  const header = {};
  const cmds = [];
  for (const line of text.split('\n')) {
    const h = /^# (qemu|args): (.*)$/.exec(line);
    if (h) header[h[1]] = h[2];
    else if (line && !line.startsWith('#')) cmds.push(line);
  }
  const argv = [...header.args.split(' '), '-S', '-monitor', 'stdio'];
  const p = spawn(header.qemu, argv);
  let out = '';
  p.stdout.setEncoding('utf8');
  p.stdout.on('data', (d) => { out += d; });
  p.stderr.on('data', () => undefined);
  await sleep(800);
  for (const c of cmds) {
    p.stdin.write(c + '\n');
    await sleep(400);
  }
  p.stdin.write('quit\n');
  await new Promise((r) => p.on('exit', r));
  // Drop the readline echo (escape sequences) and the banner; keep each command's output.
  const clean = out.replace(/\x1b\[[0-9]*[A-Z]/g, '').split('\n').map((l) => l.replace(/\r$/, ''));
  const res = [`# recorded from ${version(header.qemu)}`, `# command: ${header.qemu} ${argv.join(' ')}`, `# args: ${header.args}`];
  for (const l of clean) {
    if (l.startsWith('QEMU ') && l.includes('monitor')) continue;
    const m = /^\(qemu\) .*(info [a-z -]+|quit)$/.exec(l);
    if (m) res.push(`(qemu) ${m[1]}`);
    else res.push(l);
  }
  writeFileSync(path.replace(/\.hmp$/, '.txt'), res.join('\n').replace(/\n+$/, '') + '\n');
}

if (mode === 'qtest') await recordQtest(file);
else if (mode === 'hmp') await recordHmp(file);
else if (mode === 'cmdline') await recordCmdline(file);
else {
  console.error('usage: record.mjs qtest FILE.qtest | cmdline FILE.in');
  process.exit(2);
}
