import t from 'tap';
import { readdirSync } from 'node:fs';
import { loadTranscript, replay } from '../../machine/transcript.js';
import { repoPath } from '../../helpers/paths.js';

// VT-d qtest transcripts recorded from Debian's QEMU 7.2 (data/*.qtest, recorded with
// test/machine/data/record.mjs; the header of each .txt names QEMU and the command).
// viommu must give every answer QEMU gave: register reads, DMA results, memory contents.
const DIR = repoPath('test', 'iommu', 'vtd', 'data');


// Only qtest recordings (a .txt next to its .qtest script); mtree.txt is HMP output, checked in monitor.test.ts.
const files = readdirSync(DIR);
for (const name of files.filter((f) => f.endsWith('.txt') && files.includes(f.replace(/\.txt$/, '.qtest'))).sort()) {
  t.test(name, async (t) => {
    const tr = loadTranscript(name, DIR);
    t.ok(tr.lines.length > 0, 'the recording has answers');
    const got = replay(tr);
    for (let i = 0; i < Math.max(got.length, tr.lines.length); i++) {
      if (got[i] !== tr.lines[i]) {
        const cmd = tr.lines.slice(0, i + 1).reverse().find((l) => l.startsWith('> '));
        t.equal(got[i], tr.lines[i], `line ${i + 1} (after ${cmd})`);
        return;
      }
    }
    t.pass(`${tr.lines.length} lines identical to QEMU 7.2`);
  });
}
