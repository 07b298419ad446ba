import t from 'tap';
import { formatDuration, parseDuration } from '../../../src/cli/hotplug/duration.js';
import { mismatch } from '../../../src/cli/hotplug/match.js';
import { defaultGuestActions } from '../../../src/cli/hotplug/providers.js';
import { parseScript, ScriptError } from '../../../src/cli/hotplug/script.js';
import { runHotplugScript } from '../../../src/cli/hotplug/run.js';
import type { GuestAction } from '../../../src/cli/hotplug/actions.js';

t.test('durations with QEMU-ish suffixes', async (t) => {
  t.equal(parseDuration('100ms'), 100_000_000);
  t.equal(parseDuration('6s'), 6_000_000_000);
  t.equal(parseDuration('1.5s'), 1_500_000_000);
  t.equal(parseDuration('250us'), 250_000);
  t.equal(parseDuration('10ns'), 10);
  t.equal(parseDuration(42), 42, 'a number is nanoseconds, as qtest clock_step');
  t.match(parseDuration('6 sec'), /'6 sec' is not a duration/);
  t.match(parseDuration('-1s'), /not a duration/);
  t.match(parseDuration(1.5), /not a whole/);
  t.equal(formatDuration(6e9), '6s');
  t.equal(formatDuration(1e8), '100ms');
  t.equal(formatDuration(1_500_000_000), '1.5s');
  t.equal(formatDuration(7), '7ns');
});

t.test('replies and events match as subsets', async (t) => {
  t.equal(mismatch({}, { a: 1 }), undefined, '{} matches any object');
  t.equal(mismatch({ device: 'e1' }, { device: 'e1', path: '/machine/peripheral/e1' }), undefined);
  t.equal(mismatch({ device: 'e1' }, { path: '/x' }), 'device is missing');
  t.equal(mismatch({ data: { device: 'e1' } }, { data: { device: 'e2' } }), 'data.device is "e2", expected "e1"');
  t.equal(mismatch([{ bus: 0 }], [{ bus: 0, devices: [] }]), undefined, 'arrays element by element');
  t.equal(mismatch([1], [1, 2]), 'the value has 2 elements, expected 1');
  t.equal(mismatch(18446744073709551615, 18446744073709551615n), undefined, 'numbers beyond 2^53 (QMP bigint) compare by value');
  t.equal(mismatch(1, 1n), undefined);
  t.equal(mismatch({ a: 1 }, 'x'), 'the value is "x", expected an object');
});

t.test('the parser: header, steps, which reply an expectation checks', async (t) => {
  const s = parseScript([
    '# a comment',
    '{"machine": "-M virt -nodefaults", "boot": {"dmaMode": "strict", "unplugAck": "linux", "pciehpPoll": "500ms"}, "seed": 9}',
    '',
    '{"execute": "device_add", "arguments": {"driver": "edu", "id": "e1", "bus": "rp1"}, "id": 7}',
    '{"wait": "10ms"}',
    '{"expect": {"return": {}}, "name": "device_add works"}',
    '{"execute": "device_del", "arguments": {"id": "e1"}}',
    '{"expect_none": {"event": "DEVICE_DELETED", "data": {"device": "e1"}}, "within": "6s", "stop_on_failure": true}',
  ].join('\n'), 'x.jsonl', defaultGuestActions());
  t.equal(s.header?.line, 2);
  t.equal(s.header?.machine?.machine.type, 'virt');
  t.same(s.header?.boot, { dmaMode: 'strict', pciehp: { unplugAck: 'linux', pollNs: 5e8 }, spaprHotplug: { unplugAck: 'linux' } });
  t.equal(s.header?.seed, 9);
  t.same(s.steps.map((x) => [x.line, x.kind]), [[4, 'qmp'], [5, 'wait'], [6, 'expect'], [7, 'qmp'], [8, 'expect']]);
  const q = s.steps[0]!;
  t.match(q, { kind: 'qmp', checked: true, command: { execute: 'device_add', id: 7 } });
  t.match(s.steps[3], { kind: 'qmp', checked: false }, 'an event expectation does not check the reply');
  t.match(s.steps[2], { label: 'device_add works' });
  t.match(s.steps[4], { kind: 'expect', none: true, withinNs: 6e9, stopOnFailure: true, expect: { type: 'event', event: 'DEVICE_DELETED', data: { device: 'e1' } } });
  const e = (() => {
    try {
      parseScript('{"wait": "1s"}\n{"guest": "dma", "device": 3}', 'y.jsonl', defaultGuestActions());
    } catch (err) {
      return err;
    }
    return undefined;
  })();
  t.ok(e instanceof ScriptError);
  t.match(e, { file: 'y.jsonl', line: 2, field: 'device', problem: 'expected a string', message: 'y.jsonl:2: device: expected a string' });
});

t.test('a provider registered for an extension point replaces its placeholder', async (t) => {
  const calls: string[] = [];
  const traffic: GuestAction = {
    name: 'traffic',
    summary: 'test traffic',
    params: { device: { type: 'string', required: true, help: 'device' }, packets: { type: 'integer', help: 'n' } },
    run(ctx, args) {
      const d = ctx.device(args['device'] as string);
      calls.push(`${d.ref} ${d.bdf} ${d.guest?.driver} ${String(args['packets'])}`);
      return { ok: true, detail: `${String(args['packets'])} packets` };
    },
  };
  const text = [
    '{"machine": "-M q35 -nodefaults -device pcie-root-port,id=rp1,chassis=1,addr=3 -device edu,id=e1,bus=rp1"}',
    '{"guest": "traffic", "device": "e1", "packets": 10}',
    '{"guest": "bind-vfio", "device": "e1"}',
  ].join('\n');
  const run = runHotplugScript(text, 'p.jsonl', { actions: [traffic] });
  t.same(calls, ['e1 0000:01:00.0 edu 10']);
  t.same(run.records.map((r) => [r.line, r.outcome]), [[2, 'done'], [3, 'fail']], 'bind-vfio is the registered provider, not the test one');
  t.match(run.records[1]!.detail, /probe failed: no IOMMU group/, 'the real bind-vfio: no vIOMMU, so vfio-pci refuses the device');
  t.same([run.tests, run.passed, run.failed], [1, 0, 1]);
});
