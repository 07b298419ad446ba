import t from 'tap';
import { NetPeer, PEER_MAC, PEER_OUTBOX } from '../../../src/virtio/net/peer.js';
import { buildDataFrame, ETH_P_VIOMMU, OP_ECHO, OP_GEN, parseTestFrame } from '../../../src/virtio/net/test-frame.js';
import { WIRE_SLOTS, WireRing } from '../../../src/virtio/net/wire.js';

const GUEST = Uint8Array.of(0x52, 0x54, 0, 0x12, 0x34, 0x56);

function frame(op: number, data: Uint8Array): Uint8Array {
  const f = buildDataFrame(PEER_MAC, GUEST, 7, data.length);
  f.set(data, 30);
  f[14] = op;
  const v = new DataView(f.buffer);
  let h = 0x811c9dc5;
  for (const b of data) h = Math.imul(h ^ b, 0x01000193);
  v.setUint32(26, h >>> 0);
  return f;
}

t.test('the peer echoes ECHO frames with the addresses swapped and counts bad ones', async (t) => {
  const p = new NetPeer();
  p.deliver(frame(OP_ECHO, Uint8Array.of(1, 2, 3)));
  t.equal(p.outbox.length, 1);
  const back = p.outbox[0]!;
  t.same([...back.subarray(0, 6)], [...GUEST], 'to the sender');
  t.same([...back.subarray(6, 12)], [...PEER_MAC]);
  t.same([...back.subarray(30, 33)], [1, 2, 3]);
  const broken = frame(OP_ECHO, Uint8Array.of(1, 2, 3));
  broken[31] = 9;
  p.deliver(broken);
  t.equal(p.counters.bad, 1, 'a checksum mismatch is counted, not echoed');
  t.equal(p.outbox.length, 1);
});

t.test('GEN asks for numbered DATA frames; the outbox drops beyond its size', async (t) => {
  const p = new NetPeer();
  const req = new Uint8Array(8);
  new DataView(req.buffer).setUint32(0, PEER_OUTBOX + 5);
  new DataView(req.buffer).setUint32(4, 64);
  p.deliver(frame(OP_GEN, req));
  t.equal(p.outbox.length, PEER_OUTBOX);
  t.equal(p.counters.dropped, 5);
  const f = parseTestFrame(p.outbox[3]!)!;
  t.equal(f.seq, 3);
  t.ok(f.sumOk);
  t.equal(new DataView(p.outbox[3]!.buffer).getUint16(12), ETH_P_VIOMMU);
});

t.test('the wire ring carries frames in order and refuses when full', async (t) => {
  const w = WireRing.create();
  const other = new WireRing(w.sab);
  for (let i = 0; i < WIRE_SLOTS; i++) t.ok(w.push(Uint8Array.of(i & 0xff, 1, 2)) || i >= WIRE_SLOTS);
  t.equal(w.push(Uint8Array.of(0)), false, 'full');
  t.equal(other.peek()![0], 0, 'the other side sees the first frame');
  other.consume();
  t.equal(other.peek()![0], 1);
  t.equal(other.length, WIRE_SLOTS - 1);
  w.clear();
  t.equal(other.peek(), undefined);
});
