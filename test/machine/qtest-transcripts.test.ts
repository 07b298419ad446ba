import t from 'tap';
import { loadTranscript, replay, transcriptNames } from './transcript.js';

// Each transcript was recorded from Debian's QEMU 7.2 (see its header and
// data/record.mjs); viommu must answer every command identically.
for (const name of transcriptNames()) {
  t.test(name, async (t) => {
    const tr = loadTranscript(name);
    const got = replay(tr);
    const n = Math.max(got.length, tr.lines.length);
    for (let i = 0; i < n; i++) {
      if (got[i] !== tr.lines[i]) {
        const cmd = tr.lines.slice(0, i + 1).reverse().find((l) => l.startsWith('> '));
        t.equal(got[i], tr.lines[i], `line ${i + 1} (after ${cmd})`);
        return;
      }
    }
    t.pass(`${tr.lines.length} lines identical`);
  });
}
