import t from 'tap';
import { MemorySystem, type MemoryListener, type MemoryRegionSection } from '../../src/memory/index.js';

function recorder(name: string, log: string[], priority = 0): MemoryListener {
  const fmt = (s: MemoryRegionSection) => `${s.mr.name}@${s.offsetWithinAddressSpace.toString(16)}+${s.size.toString(16)}`;
  return {
    name,
    priority,
    begin: () => log.push(`${name}:begin`),
    commit: () => log.push(`${name}:commit`),
    regionAdd: (s) => log.push(`${name}:add ${fmt(s)}`),
    regionDel: (s) => log.push(`${name}:del ${fmt(s)}`),
  };
}

t.test('registering replays the current ranges', async (t) => {
  const sys = new MemorySystem();
  const root = sys.container('system', 0x10000);
  const as = sys.addressSpace(root, 'memory');
  root.addSubregion(sys.ram('a', 0x1000), 0);
  root.addSubregion(sys.ram('b', 0x1000), 0x4000);
  const log: string[] = [];
  sys.registerListener(as, recorder('L', log));
  t.same(log, ['L:begin', 'L:add a@0+1000', 'L:add b@4000+1000', 'L:commit']);
});

t.test('moving a region: begin, del in reverse order, add in forward order, commit', async (t) => {
  const sys = new MemorySystem();
  const root = sys.container('system', 0x10000);
  const as = sys.addressSpace(root, 'memory');
  const r = sys.ram('r', 0x1000);
  root.addSubregion(r, 0x1000);
  const log: string[] = [];
  sys.registerListener(as, recorder('A', log, 0));
  sys.registerListener(as, recorder('B', log, 10));
  sys.registerListener(as, recorder('C', log, 10));
  log.length = 0;
  r.setAddress(0x3000);
  t.same(log, [
    'A:begin', 'B:begin', 'C:begin',
    'C:del r@1000+1000', 'B:del r@1000+1000', 'A:del r@1000+1000',
    'A:add r@3000+1000', 'B:add r@3000+1000', 'C:add r@3000+1000',
    'A:commit', 'B:commit', 'C:commit',
  ]);
});

t.test('a transaction batches changes into one update; unchanged ranges are nops', async (t) => {
  const sys = new MemorySystem();
  const root = sys.container('system', 0x10000);
  const as = sys.addressSpace(root, 'memory');
  const keep = sys.ram('keep', 0x1000);
  root.addSubregion(keep, 0);
  const log: string[] = [];
  const nops: string[] = [];
  sys.registerListener(as, { ...recorder('L', log), regionNop: (s) => nops.push(s.mr.name) });
  log.length = 0;
  sys.transaction(() => {
    sys.transaction(() => root.addSubregion(sys.ram('x', 0x1000), 0x2000));
    t.same(log, [], 'nested commit does not update');
    root.addSubregion(sys.ram('y', 0x1000), 0x3000);
  });
  t.same(log, ['L:begin', 'L:add x@2000+1000', 'L:add y@3000+1000', 'L:commit']);
  t.same(nops, ['keep']);
});

t.test('unregistering deletes; destroying an address space deletes for its listeners', async (t) => {
  const sys = new MemorySystem();
  const root = sys.container('system', 0x10000);
  root.addSubregion(sys.ram('a', 0x1000), 0);
  const as1 = sys.addressSpace(root, 'one');
  const as2 = sys.addressSpace(root, 'two');
  const log: string[] = [];
  const l1 = recorder('L1', log);
  sys.registerListener(as1, l1);
  sys.registerListener(as2, recorder('L2', log));
  log.length = 0;
  sys.unregisterListener(l1);
  t.same(log, ['L1:begin', 'L1:del a@0+1000', 'L1:commit']);
  log.length = 0;
  sys.destroyAddressSpace(as2);
  t.same(log, ['L2:begin', 'L2:del a@0+1000', 'L2:commit']);
  t.notOk(sys.addressSpaces.includes(as2));
});

t.test('listeners only hear about their own address space', async (t) => {
  const sys = new MemorySystem();
  const r1 = sys.container('r1', 0x10000);
  const r2 = sys.container('r2', 0x10000);
  const as1 = sys.addressSpace(r1, 'one');
  sys.addressSpace(r2, 'two');
  const log: string[] = [];
  sys.registerListener(as1, recorder('L', log));
  log.length = 0;
  r2.addSubregion(sys.ram('elsewhere', 0x1000), 0);
  t.same(log, ['L:begin', 'L:commit'], 'begin/commit are global, region callbacks per address space');
});
