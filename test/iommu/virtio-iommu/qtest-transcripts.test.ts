import { readdirSync, readFileSync } from 'node:fs';
import t from 'tap';
import { parseCmdline } from '../../../src/machine/cmdline.js';
import { Machine } from '../../../src/machine/machine.js';
import { QtestSession } from '../../../src/machine/qtest/session.js';
import { repoPath } from '../../helpers/paths.js';

// qtest sessions of virtio-iommu-pci on q35 recorded from Debian's QEMU 7.2
// (data/qtest-gen.mjs writes the scripts, test/machine/data/record.mjs
// records them). With x-qemu-compat=on viommu must answer every command as
// QEMU did: config reads, statuses, used lengths, fault reports.
const DIR = repoPath('test', 'iommu', 'virtio-iommu', 'data');

function load(name: string): { args: string[]; lines: string[] } {
  let args: string[] = [];
  const lines: string[] = [];
  for (const l of readFileSync(`${DIR}/${name}`, 'utf8').split('\n')) {
    const m = /^# args: (.*)$/.exec(l);
    if (m) args = m[1]!.split(' ');
    else if (l.startsWith('> ') || l.startsWith('< ')) lines.push(l);
  }
  return { args, lines };
}

function replay(args: string[], lines: string[]): string[] {
  const m = Machine.create(parseCmdline([...args, '-global', 'virtio-iommu-pci.x-qemu-compat=on']).config);
  const out: string[] = [];
  const push = (text: string) => {
    for (const l of text.split('\n')) if (l) out.push(`< ${l}`);
  };
  m.console = push;
  const s = new QtestSession(m, push);
  s.opened();
  for (const l of lines) {
    if (!l.startsWith('> ')) continue;
    out.push(l);
    s.feed(l.slice(2) + '\n');
  }
  return out;
}

for (const name of readdirSync(DIR).filter((f) => f.endsWith('.txt')).sort()) {
  t.test(name, async (t) => {
    const tr = load(name);
    const got = replay(tr.args, tr.lines);
    for (let i = 0; i < Math.max(got.length, tr.lines.length); i++) {
      if (got[i] !== tr.lines[i]) {
        const cmd = tr.lines.slice(0, i + 1).reverse().find((l) => l.startsWith('> '));
        t.equal(got[i], tr.lines[i], `line ${i + 1} (after ${cmd})`);
        return;
      }
    }
    t.pass(`${tr.lines.length} lines identical`);
  });
}
