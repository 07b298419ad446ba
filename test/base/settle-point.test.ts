import t from 'tap';
import { SettlePoint, type AsyncBackend } from '../../src/base/settle-point.js';

/** A backend with `steps` steps to go; records each step and raises an "interrupt" per step through the settle point. */
function backend(name: string, steps: number, sp: SettlePoint, trace: string[]): AsyncBackend & { left: number } {
  const b = {
    left: steps,
    step(): boolean {
      trace.push(`${name}${b.left}`);
      const n = b.left;
      sp.defer(() => trace.push(`irq ${name}${n}`));
      b.left--;
      return b.left > 0;
    },
  };
  return b;
}

t.test('settle steps the backends round-robin in the order they first started, interrupts after the loop', async (t) => {
  const trace: string[] = [];
  const busy: boolean[] = [];
  const sp = new SettlePoint((x) => busy.push(x));
  const a = backend('a', 2, sp, trace);
  const b = backend('b', 3, sp, trace);
  sp.started(a);
  sp.started(b);
  t.equal(sp.inFlight, 2);
  sp.settle();
  t.same(trace, ['a2', 'b3', 'a1', 'b2', 'b1', 'irq a2', 'irq b3', 'irq a1', 'irq b2', 'irq b1']);
  t.same(busy, [true, false], 'armed once, disarmed when everything completed');
  trace.length = 0;
  b.left = 1;
  a.left = 1;
  sp.started(b);
  sp.started(a);
  sp.settle();
  t.same(trace, ['a1', 'b1', 'irq a1', 'irq b1'], 'the order is the first start, not the latest kick');
});

t.test('settleOne completes one backend and leaves the others in flight; settle inside a loop is a no-op', async (t) => {
  const trace: string[] = [];
  const sp = new SettlePoint();
  const a = backend('a', 2, sp, trace);
  const inner = {
    step(): boolean {
      trace.push('inner');
      sp.settle();
      return false;
    },
  };
  sp.started(a);
  sp.started(inner);
  sp.settleOne(a);
  t.same(trace, ['a2', 'a1', 'irq a2', 'irq a1']);
  t.equal(sp.inFlight, 1);
  sp.settle();
  t.same(trace.slice(4), ['inner'], 'the nested settle did not step anything again');
  t.equal(sp.inFlight, 0);
  sp.defer(() => trace.push('now'));
  t.equal(trace.at(-1), 'now', 'outside a loop, deferred work runs at once');
});
