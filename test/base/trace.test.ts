import t from 'tap';
import { ChromeTrace, Tracer, VirtualClock, type TraceEvent } from '../../src/base/index.js';
import { checkTrace, trackNames } from '../helpers/trace-check.js';

t.test('a tracer records nothing until a sink is attached, and stamps events with virtual time', async (t) => {
  const clock = new VirtualClock();
  const tracer = new Tracer();
  const got: TraceEvent[] = [];
  const where = { group: 'vIOMMU', track: 'intel-iommu' };
  t.equal(tracer.on, false);
  tracer.instant(where, 'iotlb', 'lost');
  tracer.attach({ record: (e) => got.push(e) }, () => clock.now);
  t.equal(tracer.on, true);
  clock.advanceTo(1500);
  tracer.begin(where, 'inv', 'IOTLB invalidation', { did: 1 });
  clock.advanceTo(2500);
  tracer.end(where, 'inv', 'IOTLB invalidation');
  tracer.complete(where, 'iotlb', 'walk', undefined, 2000);
  tracer.detach();
  tracer.instant(where, 'iotlb', 'lost too');
  t.same(got.map((e) => [e.ph, e.name, e.ts, e.dur]), [['B', 'IOTLB invalidation', 1500, undefined], ['E', 'IOTLB invalidation', 2500, undefined], ['X', 'walk', 2000, 500]]);
  t.same(got[0]!.args, { did: 1 });
});

t.test('ChromeTrace: a process per group, a thread per track, microseconds, a bounded size', async (t) => {
  const clock = new VirtualClock();
  const tracer = new Tracer();
  const trace = new ChromeTrace(4);
  tracer.attach(trace, () => clock.now);
  const dev = { group: 'devices', track: '0000:00:01.0 edu' };
  const iommu = { group: 'vIOMMU', track: 'intel-iommu' };
  clock.advanceTo(1_234_567);
  tracer.complete(dev, 'dma', 'DMA read', { iova: '0x1000' });
  tracer.instant(iommu, 'iotlb', 'IOTLB fill');
  tracer.begin(dev, 'dma', 'x');
  tracer.end(dev, 'dma', 'x');
  tracer.instant(iommu, 'iotlb', 'dropped');
  const f = JSON.parse(JSON.stringify(trace.toJSON()));
  t.same(checkTrace(f), []);
  const names = trackNames(f);
  const read = f.traceEvents.find((e: { name: string }) => e.name === 'DMA read');
  t.equal(read.ts, 1234.567, 'ts in microseconds of virtual time');
  t.equal(read.dur, 0);
  t.equal(names.get(String(read.pid)), 'devices');
  t.equal(names.get(`${read.pid}/${read.tid}`), '0000:00:01.0 edu');
  const fill = f.traceEvents.find((e: { name: string }) => e.name === 'IOTLB fill');
  t.not(fill.pid, read.pid);
  t.equal(fill.s, 't', 'instants are thread-scoped');
  t.equal(trace.dropped, 1);
  t.equal(f.otherData.dropped, 1);
  t.notOk(f.traceEvents.some((e: { name: string }) => e.name === 'dropped'));
});

t.test('the nesting check catches what a viewer would choke on', async (t) => {
  const ev = (ph: string, name: string, ts: number) => ({ ph, name, ts, pid: 1, tid: 1 });
  t.match(checkTrace({ traceEvents: [ev('B', 'a', 0), ev('E', 'b', 1)] } as never), [/closes B a/]);
  t.match(checkTrace({ traceEvents: [ev('B', 'a', 0)] } as never), [/left open/]);
  t.match(checkTrace({ traceEvents: [ev('i', 'a', 5), ev('i', 'b', 4)] } as never), [/time goes back/]);
});
