import t from 'tap';
import { Xorshift32 } from '../../src/base/prng.js';
import { echoRegistry } from './helpers/echo-device.js';
import { COMMON, ISR, VirtioHarness } from './helpers/harness.js';

// Malformed split rings (virtio 1.2 section 2.7) put the device in
// DEVICE_NEEDS_RESET and never throw; a reset brings it back.
const V1 = 1n << 32n;
const INDIRECT = 1n << 28n;
const NEEDS_RESET = 0x40;

function ready(features = V1 | INDIRECT): VirtioHarness {
  const h = new VirtioHarness('-machine q35 -nodefaults -display none -device virtio-echo-pci,addr=2', 2, echoRegistry());
  h.init(features, 1);
  return h;
}

/** Sets up descriptors with `build`, makes `head` available and notifies; returns the status afterwards. */
function malformed(build: (h: VirtioHarness, desc: number) => void, head = 0, features?: bigint): { h: VirtioHarness; status: number } {
  const h = ready(features);
  const desc = h.queues[0]!.desc;
  build(h, desc);
  h.kick(0, head);
  return { h, status: h.status };
}

const cases: [string, (h: VirtioHarness, d: number) => void, number?, bigint?][] = [
  ['a loop in the chain', (h, d) => {
    h.writeDesc(d, 0, 0x300000, 4, 1, 1);
    h.writeDesc(d, 1, 0x300100, 4, 1, 0);
  }],
  ['next beyond the queue size', (h, d) => h.writeDesc(d, 0, 0x300000, 4, 1, 16)],
  ['a head index beyond the queue size', () => undefined, 40],
  ['a zero-length buffer', (h, d) => h.writeDesc(d, 0, 0x300000, 0, 0, 0)],
  ['a readable buffer after a writable one', (h, d) => {
    h.writeDesc(d, 0, 0x300000, 4, 3, 1);
    h.writeDesc(d, 1, 0x300100, 4, 0, 0);
  }],
  ['a buffer outside RAM', (h, d) => {
    h.writeDesc(d, 0, 0x50000000, 4, 1, 1);
    h.writeDesc(d, 1, 0x300100, 4, 2, 0);
  }],
  ['a buffer beyond 2^53', (h, d) => {
    h.w32(d + 4, 0x00400000);
    h.w32(d + 8, 4);
    h.w16(d + 12, 0);
  }],
  ['an indirect table of a length not a multiple of 16', (h, d) => h.writeDesc(d, 0, 0x380000, 20, 4, 0)],
  ['an indirect descriptor with NEXT', (h, d) => h.writeDesc(d, 0, 0x380000, 32, 5, 1)],
  ['an indirect descriptor inside an indirect table', (h, d) => {
    h.writeDesc(0x380000, 0, 0x390000, 16, 4, 0);
    h.writeDesc(d, 0, 0x380000, 16, 4, 0);
  }],
  ['an indirect table outside RAM', (h, d) => h.writeDesc(d, 0, 0x50000000, 32, 4, 0)],
  ['an indirect descriptor without VIRTIO_RING_F_INDIRECT_DESC', (h, d) => {
    h.writeDesc(0x380000, 0, 0x390000, 4, 0, 0);
    h.writeDesc(d, 0, 0x380000, 16, 4, 0);
  }, 0, V1],
  ['a loop through an indirect table', (h, d) => {
    h.writeDesc(0x380000, 0, 0x390000, 4, 1, 1);
    h.writeDesc(0x380000, 1, 0x390000, 4, 1, 0);
    h.writeDesc(d, 0, 0x380000, 32, 4, 0);
  }],
];

for (const [title, build, head, features] of cases) {
  t.test(title, async (t) => {
    const { h, status } = malformed(build, head, features);
    t.equal(status & NEEDS_RESET, NEEDS_RESET, 'DEVICE_NEEDS_RESET');
    t.equal(h.usedIdx(0), 0, 'nothing was used');
    t.equal(h.r8(ISR), 3, 'the driver is told (configuration change)');
  });
}

t.test('an avail index more than the queue size ahead', async (t) => {
  const h = ready();
  h.w16(h.queues[0]!.avail + 2, 17);
  h.w16(0xfe003000, 0);
  t.equal(h.status & NEEDS_RESET, NEEDS_RESET);
});

t.test('rings outside RAM', async (t) => {
  const h = ready();
  h.setStatus(0);
  h.negotiate(V1);
  h.w16(COMMON + 22, 0);
  h.w32(COMMON + 32, 0x100000);
  h.w32(COMMON + 40, 0x50000000);
  h.w32(COMMON + 48, 0x102000);
  h.w16(COMMON + 28, 1);
  h.setStatus(0xf);
  h.w16(0xfe003000, 0);
  t.equal(h.status & NEEDS_RESET, NEEDS_RESET, 'an avail ring that cannot be read');
});

t.test('after DEVICE_NEEDS_RESET: nothing more until reset, then the device works again', async (t) => {
  const { h } = malformed((h, d) => h.writeDesc(d, 0, 0x300000, 0, 0, 0));
  h.setStatus(0xf);
  t.equal(h.status & NEEDS_RESET, NEEDS_RESET, 'the driver cannot clear DEVICE_NEEDS_RESET');
  h.init(V1, 1);
  t.equal(h.status, 0xf, 'reset and re-initialised');
  h.kick(0, h.chain(0, [{ data: Uint8Array.of(5) }, { len: 1, write: true, addr: 0x310000 }]));
  t.equal(h.usedIdx(0), 1);
  t.equal(h.r8(0x310000), 6);
});

t.test('queue_enable written with 0 is a driver error', async (t) => {
  const h = ready();
  h.w16(COMMON + 28, 0);
  t.equal(h.status & NEEDS_RESET, NEEDS_RESET);
});

t.test('random descriptor tables and avail rings never throw', async (t) => {
  const rng = new Xorshift32(0x5eed);
  let broken = 0;
  let used = 0;
  const h = ready();
  for (let round = 0; round < 300; round++) {
    h.init(V1 | INDIRECT, 1);
    const q = h.queues[0]!;
    // Random fields, biased so that well-formed chains occur as well as every kind of error.
    for (let i = 0; i < q.size; i++) {
      const addr = rng.next() % 8 === 0 ? rng.next() * 0x1000 : 0x300000 + (rng.next() & 0xfff0);
      const len = rng.next() % 8 === 0 ? rng.next() : rng.next() & 0x3f;
      const flags = rng.next() % 4 === 0 ? rng.next() & 0xffff : rng.next() & 3;
      const next = rng.next() % 4 === 0 ? rng.next() & 0xffff : rng.next() % q.size;
      h.writeDesc(q.desc, i, addr, len, flags, next);
    }
    for (let i = 0; i < q.size; i++) h.w16(q.avail + 4 + i * 2, rng.next() % 6 === 0 ? rng.next() & 0xffff : rng.next() % q.size);
    h.w16(q.avail + 2, rng.next() % 20);
    t.doesNotThrow(() => h.w16(0xfe003000, 0), `round ${round}`);
    if (h.status & NEEDS_RESET) broken++;
    used += h.usedIdx(0);
    if (round % 50 === 0) t.equal(h.init(V1, 1), 0xf, 'a reset always brings the device back');
  }
  t.ok(broken > 0 && used > 0, `both outcomes occur (${broken} broken, ${used} chains used)`);
});
