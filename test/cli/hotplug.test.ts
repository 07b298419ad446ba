import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { runViommu } from '../../src/cli/main.js';
import { repoPath } from '../helpers/paths.js';

async function run(args: string[]) {
  let out = '';
  let err = '';
  const code = await runViommu(args, { stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s) } });
  return { code, out, err };
}

const dir = mkdtempSync(join(tmpdir(), 'viommu-hotplug-'));
let n = 0;
/** Writes a script (lines joined) to a temporary file. */
function script(...lines: (string | object)[]): string {
  const f = join(dir, `s${n++}.jsonl`);
  writeFileSync(f, lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n') + '\n');
  return f;
}

/** The TAP facts a CI reads: plan, points, summary line. */
function tap(out: string) {
  const lines = out.trimEnd().split('\n');
  const plan = /^1\.\.(\d+)$/m.exec(out);
  return {
    plan: plan ? Number(plan[1]) : -1,
    ok: lines.filter((l) => /^ok \d+ - /.test(l)).length,
    notOk: lines.filter((l) => /^not ok \d+ - /.test(l)),
    summary: lines.at(-1) ?? '',
  };
}

const EXAMPLES = readdirSync(repoPath('examples', 'hotplug')).filter((f) => f.endsWith('.jsonl')).sort();

t.test('every example runs green', async (t) => {
  t.ok(EXAMPLES.length >= 4, `examples found: ${EXAMPLES.join(', ')}`);
  for (const f of EXAMPLES) {
    const r = await run(['hotplug', repoPath('examples', 'hotplug', f)]);
    const p = tap(r.out);
    t.equal(r.code, 0, `${f} exits 0\n${r.out}${r.err}`);
    t.match(r.out, /^TAP version 13\n/, `${f}: TAP`);
    t.ok(p.plan > 0, `${f}: a plan with test points`);
    t.equal(p.ok, p.plan, `${f}: every point ok`);
    t.same(p.notOk, [], `${f}: no failing point`);
    t.equal(p.summary, `# ${p.plan} passed, 0 failed`, `${f}: summary line`);
  }
});

t.test('same script and seed: same output byte for byte (TAP and --json)', async (t) => {
  const f = repoPath('examples', 'hotplug', 'q35-edu-hotplug.jsonl');
  const a = await run(['hotplug', f, '--seed', '7']);
  const b = await run(['hotplug', f, '--seed', '7']);
  t.equal(a.out, b.out);
  const j1 = await run(['hotplug', f, '--json', '--log']);
  const j2 = await run(['hotplug', f, '--json', '--log']);
  t.equal(j1.out, j2.out);
  const j = JSON.parse(j1.out);
  t.same(j.summary, { tests: 18, passed: 18, failed: 0, skipped: 0 });
  const del = j.steps.find((s: { description: string }) => s.description.startsWith('expect event DEVICE_DELETED'));
  t.match(del, { kind: 'expect', outcome: 'pass', test: true, line: 21 });
  t.match(del.detail, /^DEVICE_DELETED \{"device": "e1", "path": "\/machine\/peripheral\/e1"\} at \d+\.\d{6}s$/);
  t.ok(j.log.some((l: string) => /pcieport 0000:00:03\.0: pciehp: Slot\(0\): Card present/.test(l)), 'the log comes with --log');
});

t.test('a wrong expectation fails with the step, what was expected and what happened; the run goes on', async (t) => {
  const f = script(
    { execute: 'device_add', arguments: { driver: 'edu', id: 'e1', bus: 'rp1' } },
    { expect: { return: {} } },
    { execute: 'device_del', arguments: { id: 'e1' } },
    { expect: { event: 'DEVICE_DELETED', data: { device: 'e1' } }, within: '6s' },
    { assert: { device: 'e1', present: true, driver: 'edu' } },
  );
  const r = await run(['hotplug', f]);
  t.equal(r.code, 1);
  const p = tap(r.out);
  t.same(p.notOk, ['not ok 2 - line 4: expect event DEVICE_DELETED {"device": "e1"} within 6s']);
  t.match(r.out, /\n {2}---\n {2}line: 4\n {2}step: "\{\\"expect\\":\{\\"event\\":\\"DEVICE_DELETED\\".*\n {2}at: "0\.100000s"\n {2}expected: "event DEVICE_DELETED \{\\"device\\": \\"e1\\"\} within 6s"\n {2}got: "no DEVICE_DELETED event matching \{\\"device\\": \\"e1\\"\} by 6\.100000s; no other event arrived"\n/);
  t.match(r.out, /ok 3 - line 5: assert device e1 present, driver edu/, 'the machine kept running: the device stayed');
  t.equal(p.summary, '# 2 passed, 1 failed');
});

t.test('replies: a wrong return, an error where a return was expected, an unchecked failing command', async (t) => {
  const f = script(
    { execute: 'device_add', arguments: { driver: 'edu', id: 'e1', bus: 'rp1' } },
    { expect: { error: { class: 'GenericError' } } },
    { execute: 'device_add', arguments: { driver: 'edu', id: 'e1', bus: 'rp2' } },
    { execute: 'query-status' },
    { expect: { return: { status: 'paused' } } },
  );
  const r = await run(['hotplug', f]);
  t.equal(r.code, 1);
  t.same(tap(r.out).notOk, [
    'not ok 1 - line 2: expect error GenericError',
    'not ok 2 - line 3: device_add {"driver": "edu", "id": "e1", "bus": "rp2"}',
    'not ok 3 - line 5: expect return {"status": "paused"}',
  ]);
  t.match(r.out, /got: "\{\\"return\\": \{\}\}"/, 'the reply that came');
  t.match(r.out, /got: "\{\\"error\\": \{\\"class\\": \\"GenericError\\", \\"desc\\": \\"Duplicate device ID 'e1'\\"\}\}"/);
  t.match(r.out, /expected: "a return \(add an \{\\"expect\\": \{\\"error\\": \.\.\.\}\} line if the error is intended\)"/);
  t.match(r.out, /line: 5\n.*\n.*\n {2}expected: "return \{\\"status\\": \\"paused\\"\}"\n {2}got: "\{\\"return\\": \{\\"status\\": \\"running\\"/);
});

t.test('stop_on_failure stops the run; the rest is reported as not run', async (t) => {
  const f = script(
    { guest: 'ack-unplug', slot: 'rp1', stop_on_failure: true },
    { wait: '1s' },
    { assert: { oracle: { violations: 0 } } },
  );
  const r = await run(['hotplug', f]);
  t.equal(r.code, 1);
  t.match(r.out, /not ok 1 - line 1: guest ack-unplug slot=rp1\n[^]*expected: "an unplug request pending on Slot\(0\)"\n {2}got: "no unplug request is pending on Slot\(0\) \(state off\)"/);
  t.match(r.out, /# line 2: skipped \(not run: an earlier step failed with stop_on_failure\)\n# line 3: skipped/);
  t.match(r.out, /# stopped: 2 steps not run \(stop_on_failure\)\n1\.\.1\n# 0 passed, 1 failed\n$/);
  const j = JSON.parse((await run(['hotplug', f, '--json'])).out);
  t.same(j.steps.map((s: { outcome: string }) => s.outcome), ['fail', 'skipped', 'skipped']);
});

t.test('malformed scripts: exit 2 with the line and the field, did-you-mean where it helps', async (t) => {
  const cases: [string[], RegExp][] = [
    [['{"execute": "query-status"}', '{"execute": "query-pci"'], /:2: not valid JSON: /],
    [['[1, 2]'], /:1: each line must be one JSON object/],
    [['{"exectue": "device_add"}'], /:1: exectue: not a step: expected one of execute, expect, expect_none, guest, wait, assert; did you mean 'execute'\?/],
    [['{"guest": "ack-unplg", "slot": "rp1"}'], /:1: guest: unknown guest action 'ack-unplg'; did you mean 'ack-unplug'\? \(known: ack-unplug, rescan, dma, /],
    [['{"guest": "ack-unplug", "slto": "rp1"}'], /:1: slto: 'ack-unplug' takes no parameter 'slto'; did you mean 'slot'\?/],
    [['{"guest": "dma"}'], /:1: device: 'dma' needs 'device'/],
    [['{"guest": "dma", "device": "e1", "direction": "roundtrip"}'], /:1: direction: 'roundtrip' is not one of round-trip, to-device, from-device; did you mean 'round-trip'\?/],
    [['{"execute": "device_del", "arguments": {"id": "e1"}}', '{"expect": {"event": "DEVICE_DELETED"}, "within": "6 sec"}'], /:2: within: '6 sec' is not a duration \(a number with ns, us, ms or s/],
    [['{"expect": {"return": {}}}'], /:1: expect: an expected return must follow a QMP command/],
    [['{"execute": "stop"}', '{"expect": {"retrun": {}}}'], /:2: expect: needs exactly one of return, error, event, log; did you mean 'return'\?/],
    [['{"execute": "stop"}', '{"expect": {"return": {}}, "within": "1s"}'], /:2: within: replies come at once/],
    [['{"expect_none": {"error": {}}}'], /:1: expect_none: error cannot be expected not to happen/],
    [['{"wait": "1s"}', '{"machine": "-M q35"}'], /:2: machine: the header \("machine", "boot"\) must be the first line/],
    [['{"machine": "-M q35", "boot": {"dmaMod": "strict"}}'], /:1: boot\.dmaMod: unknown boot option; did you mean 'dmaMode'\?/],
    [['{"machine": "-M q35", "boot": {"unplugAck": "never"}}'], /:1: boot\.unplugAck: "never" is not one of script, linux/],
    [['{"machine": "-M q35 -device nosuch"}'], /:1: machine: .*'nosuch' is not a valid device model name/],
    [['{"machine": {"machine": "q35", "devices": [{"driver": "edu", "bogus": 1}]}}'], /:1: machine: .*bogus/],
    [['{"assert": {"oracle": {"violation": 0}}}'], /:1: assert\.oracle\.violation: unknown oracle counter; did you mean 'violations'\?/],
    [['{"assert": {"hmp": "info pci", "match": "("}}'], /:1: assert\.match: not a valid regular expression/],
    [['{"wait": "1s", "stop_on_failur": true}'], /:1: stop_on_failur: unexpected member in a wait step; did you mean 'stop_on_failure'\?/],
  ];
  for (const [lines, re] of cases) {
    const f = script(...lines);
    const r = await run(['hotplug', f]);
    t.equal(r.code, 2, `${lines.join(' / ')}: exit 2`);
    t.equal(r.out, '', 'nothing on stdout');
    t.match(r.err, new RegExp(`^viommu: hotplug: ${f.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}${re.source}`), lines.join(' / '));
  }
  t.match((await run(['hotplug'])).err, /give a script/);
  t.match((await run(['hotplug', join(dir, 'none.jsonl')])).err, /cannot read/);
  t.match((await run(['hotplug', script('{"wait": "1s"}'), '--machine', '-M q35 -device nosuch'])).err, /--machine: .*'nosuch' is not a valid device model name/);
});

t.test('issue 11 extension points parse now and fail clearly when run (traffic is provided: it fails on a missing device)', async (t) => {
  const f = script(
    '# the actions exist with their parameters, so this script is valid',
    { guest: 'traffic', device: 'e1', packets: 100 },
    { guest: 'bind-vfio', device: 'e1' },
    { guest: 'unbind-vfio', device: 'e1' },
  );
  const r = await run(['hotplug', f]);
  t.equal(r.code, 1);
  t.equal(tap(r.out).notOk.length, 3);
  t.match(r.out, /line 3: guest bind-vfio device=e1\n  ---[^]*got: "no device 'e1' in the machine"/, 'bind-vfio is provided now: it fails on the missing device instead');
  t.match(r.out, /not ok 1 - line 2: guest traffic device=e1 packets=100\n  ---[^]*got: "the guest has no device 'e1'"/);
  const bad = await run(['hotplug', script({ guest: 'traffic', device: 'e1', packet: 1 })]);
  t.match(bad.err, /packet: 'traffic' takes no parameter 'packet'; did you mean 'packets'\?/);
});

t.test('--machine overrides the header; the default machine has rp1 and rp2', async (t) => {
  const f = script(
    { machine: '-M q35 -nodefaults' },
    { assert: { hmp: 'info qtree', match: 'dev: pcie-root-port, id "rp2"' } },
  );
  t.equal((await run(['hotplug', f])).code, 1, 'the header machine has no rp2');
  const r = await run(['hotplug', f, '--machine', '-M q35 -nodefaults -device pcie-root-port,id=rp2,chassis=2']);
  t.equal(r.code, 0, r.out);
  t.match(r.out, /# machine: -M q35 -nodefaults -device pcie-root-port,id=rp2,chassis=2\n/);
  const d = await run(['hotplug', script({ assert: { hmp: 'info qtree', match: 'id "rp1"' } }, { assert: { hmp: 'info qtree', match: 'id "rp2"' } })]);
  t.equal(d.code, 0, d.out);
  const hash = await run(['hotplug', script({ assert: { log: 'pciehp: Slot #0 AttnBtn\\+' } })]);
  t.match(hash.out, /^ok 1 - line 1: assert log has \/pciehp: Slot \\#0 AttnBtn\\\+\/$/m, "a '#' in a description is escaped, not a TAP directive");
});

t.test('bind-driver / unbind-driver and rescan on a cold-plugged device', async (t) => {
  const f = script(
    { machine: '-M q35 -nodefaults -device pcie-root-port,id=rp1,chassis=1,addr=3 -device edu,id=e1,bus=rp1' },
    { guest: 'unbind-driver', device: 'e1' },
    { assert: { device: 'e1', present: true, driver: null } },
    { guest: 'dma', device: 'e1' },
    { guest: 'bind-driver', device: 'e1' },
    { assert: { device: '0000:01:00.0', driver: 'edu' } },
    { guest: 'dma', device: '01:00.0', bytes: 64, direction: 'to-device' },
    { guest: 'rescan', slot: 'rp1' },
    { guest: 'rescan', slot: 'e1' },
  );
  const r = await run(['hotplug', f]);
  t.same(tap(r.out).notOk, ['not ok 2 - line 4: guest dma device=e1', 'not ok 4 - line 9: guest rescan slot=e1']);
  t.match(r.out, /got: "e1 \(0000:01:00\.0\) is not bound to a driver"/);
  t.match(r.out, /# line 8 \[[\d.]+s\] guest rescan slot=rp1: Slot\(0\) is already enabled/);
  t.match(r.out, /got: "e1 \(0000:01:00\.0\) is not a hot-plug port the guest drives; hot-plug slots: rp1 \(Slot\(0\)\)"/);
});
