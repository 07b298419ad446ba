import { readdirSync } from 'node:fs';
import t from 'tap';
import { repoPath } from '../../helpers/paths.js';
import { loadTranscript, replay } from '../../machine/transcript.js';

// qtest sessions of virtio-iommu-pci on q35 recorded from Debian's QEMU 7.2
// (data/qtest-gen.mjs writes the scripts, test/machine/data/record.mjs
// records them). With x-qemu-compat=on viommu must answer every command as
// QEMU did: config reads, statuses, used lengths, fault reports.
const DIR = repoPath('test', 'iommu', 'virtio-iommu', 'data');


for (const name of readdirSync(DIR).filter((f) => f.endsWith('.txt')).sort()) {
  t.test(name, async (t) => {
    const tr = loadTranscript(name, DIR, ['-global', 'virtio-iommu-pci.x-qemu-compat=on']);
    const got = replay(tr);
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
