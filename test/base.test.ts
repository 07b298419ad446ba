import t from 'tap';
import { ConfigError, IrqLine, VirtualClock, Xorshift32, closest } from '../src/base/index.js';

t.test('timers fire in deadline order, ties in arming order, at their own time', async (t) => {
  const clock = new VirtualClock();
  const seen: string[] = [];
  const a = clock.timer(() => seen.push(`a@${clock.now}`));
  const b = clock.timer(() => seen.push(`b@${clock.now}`));
  const c = clock.timer(() => {
    seen.push(`c@${clock.now}`);
    a.modIn(5); // re-armed from a callback: fires within the same step
  });
  b.mod(100);
  c.mod(50);
  a.mod(100);
  t.equal(clock.step(200), 200);
  t.same(seen, ['c@50', 'a@55', 'b@100'], 'a was re-armed to 55 by c');
  t.notOk(a.pending);
});

t.test('step without an argument goes to the next deadline', async (t) => {
  const clock = new VirtualClock();
  t.equal(clock.step(), 0, 'nothing armed: time stays');
  const tm = clock.timer(() => undefined);
  tm.mod(1_000_000);
  t.equal(clock.step(), 1_000_000);
  tm.mod(2_000_000);
  tm.del();
  t.equal(clock.nextDeadline(), undefined);
});

t.test('xorshift32 follows the workload definition', async (t) => {
  const r = new Xorshift32(0x9e3779b9);
  // x ^= x << 13; x ^= x >>> 17; x ^= x << 5 by hand for the first value.
  let x = 0x9e3779b9;
  x = (x ^ (x << 13)) >>> 0;
  x = (x ^ (x >>> 17)) >>> 0;
  x = (x ^ (x << 5)) >>> 0;
  t.equal(r.next(), x);
  const a = new Xorshift32(7).fork('vhost');
  const b = new Xorshift32(7).fork('vhost');
  t.equal(a.next(), b.next(), 'forks are deterministic');
});

t.test('ConfigError names the field and suggests', async (t) => {
  const e = ConfigError.unknown('machine.iommu', 'IOMMU', 'smmu3', ['smmuv3', 'virtio-iommu']);
  t.match(e.message, /^machine\.iommu: unknown IOMMU 'smmu3'; did you mean 'smmuv3'\?/);
  t.equal(closest('zzzzzz', ['edu']), undefined);
});

t.test('irq lines report levels to their handler', async (t) => {
  const l = new IrqLine('INTA');
  const seen: number[] = [];
  l.connect((v) => seen.push(v));
  l.raise();
  l.pulse();
  t.same(seen, [1, 1, 0]);
  t.equal(l.level, 0);
});
