import { readdirSync, readFileSync } from 'node:fs';
import t from 'tap';
import { parseCmdline } from '../../src/machine/cmdline.js';
import { Machine } from '../../src/machine/machine.js';
import { infoPci } from '../../src/machine/monitor/info-pci.js';
import { repoPath } from '../helpers/paths.js';

// data/hmp/*.txt: "info pci" as Debian's QEMU 7.2 printed it for the same command line.
const dir = repoPath('test', 'machine', 'data', 'hmp');
for (const f of readdirSync(dir).filter((n) => n.endsWith('.txt'))) {
  t.test(f, async (t) => {
    const text = readFileSync(`${dir}/${f}`, 'utf8');
    const args = /^# args: (.*)$/m.exec(text)![1]!.split(' ');
    const expected = text.split('(qemu) info pci\n')[1]!.split('(qemu) quit')[0]!;
    const m = Machine.create(parseCmdline(args).config);
    t.equal(infoPci([m.rootBus]), expected);
  });
}

t.test('human monitor commands for QMP human-monitor-command', async (t) => {
  const { humanMonitorCommand } = await import('../../src/machine/monitor/hmp.js');
  const m = Machine.create(parseCmdline(['-M', 'virt', '-device', 'edu']).config);
  t.match(humanMonitorCommand(m, 'info pci'), /PCI device 1b36:0008/);
  t.match(humanMonitorCommand(m, 'info mtree -f'), /^FlatView #0\n/);
  t.match(humanMonitorCommand(m, 'info mtree'), /alias pcie-mmio @gpex_mmio_window 0000000010000000-000000003efeffff/);
  t.equal(humanMonitorCommand(m, 'info nosuch'), "unknown command: 'info nosuch'\n");
  t.equal(humanMonitorCommand(m, 'stop'), "unknown command: 'stop'\n");
});
