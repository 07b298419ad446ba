import t from 'tap';
import { formatDuration, progressLine, startProgress, type ProgressStream } from '../../src/cli/progress.js';

/** A fake terminal: records writes; `isTTY` as given. */
function fakeStream(isTTY: boolean, columns = 80): ProgressStream & { text: string } {
  const s = { text: '', isTTY, columns, write: (x: string) => (s.text += x) };
  return s;
}

t.test('on a TTY the bar is drawn in place with counts, percentage and an ETA, then cleared', async (t) => {
  const tty = fakeStream(true);
  let now = 0;
  const bar = startProgress({ label: 'bench iotlb', total: 4, stream: tty, now: () => now, minIntervalMs: 0 });
  t.equal(bar.drawn, true);
  t.match(tty.text, /^\rbench iotlb \[-+\] 0\/4 {3}0% ETA --:--/);
  now = 10_000;
  bar.tick(1, 'workers=1');
  // one step in 10 s: 3 more steps, 30 s left
  t.match(tty.text, /\rbench iotlb \[#+-+\] 1\/4  25% ETA 0:30 workers=1\x1b\[K$/);
  now = 20_000;
  bar.tick();
  t.match(tty.text, /2\/4  50% ETA 0:20\x1b\[K$/);
  bar.update(4);
  t.match(tty.text, /\[#+\] 4\/4 100% 0:20\x1b\[K$/, 'the last step is always drawn, with the elapsed time');
  bar.done();
  t.ok(tty.text.endsWith('\r\x1b[K'), 'done() clears the line');
  const len = tty.text.length;
  bar.tick();
  bar.done();
  t.equal(tty.text.length, len, 'nothing is written after done()');
  t.equal(progressLine("", 1, 2, 0, 80), "[###############---------------] 1/2  50% ETA 0:00", "no label");
  for (const line of tty.text.split('\r')) t.ok(line.replace('\x1b[K', '').length <= 80, 'fits the terminal');
});

t.test('redraws are throttled, except the last', async (t) => {
  const tty = fakeStream(true);
  let now = 0;
  const bar = startProgress({ label: 'x', total: 100, stream: tty, now: () => now, minIntervalMs: 100 });
  for (let i = 0; i < 99; i++) bar.tick();
  t.equal(tty.text.split('\r').length - 1, 1, 'only the first draw within the interval');
  now = 150;
  bar.tick();
  t.match(tty.text, /100\/100 100%/);
});

t.test('quiet when the stream is not a terminal or with quiet (--json)', async (t) => {
  const pipe = fakeStream(false);
  const b1 = startProgress({ label: 'x', total: 3, stream: pipe });
  b1.tick();
  b1.done();
  t.equal(b1.drawn, false);
  t.equal(pipe.text, '');
  const tty = fakeStream(true);
  const b2 = startProgress({ label: 'x', total: 3, stream: tty, quiet: true });
  b2.tick();
  b2.done();
  t.equal(tty.text, '');
  const plain = { text: '', write(s: string) { this.text += s; } };
  startProgress({ label: 'x', total: 3, stream: plain }).tick();
  t.equal(plain.text, '', 'a stream without isTTY is not a terminal');
});

t.test('progressLine fits narrow terminals and formats durations', async (t) => {
  const l = progressLine('matrix', 5, 10, 5000, 40, 'vtd x vfio-pci');
  t.ok(l.length <= 40, l);
  t.match(l, /^matrix \[#+-+\] 5\/10  50% ETA 0:05/);
  t.equal(formatDuration(65_000), '1:05');
  t.equal(formatDuration(3_723_000), '1:02:03');
  t.equal(formatDuration(-5), '0:00');
});

t.test('a total learnt later (the matrix reports it with each cell)', async (t) => {
  const tty = fakeStream(true);
  let now = 0;
  const bar = startProgress({ label: 'matrix', total: 0, stream: tty, now: () => now, minIntervalMs: 0 });
  t.match(tty.text, /^\rmatrix \[-+\] 0\/\? ETA --:--/);
  now = 2000;
  bar.setTotal(8);
  bar.update(2, 'vtd|vfio');
  t.match(tty.text, /2\/8  25% ETA 0:06 vtd\|vfio\x1b\[K$/);
});
