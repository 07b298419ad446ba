import { readFileSync } from 'node:fs';
import t from 'tap';
import { repoPath } from '../helpers/paths.js';
import {
  encodeVhostMsg, readVhostMsg, VHOST_ACCESS_RO, VHOST_ACCESS_RW, VHOST_ACCESS_WO, VHOST_BACKEND_F_IOTLB_ASID,
  VHOST_BACKEND_F_IOTLB_BATCH, VHOST_BACKEND_F_IOTLB_MSG_V2, VHOST_BACKEND_F_SUSPEND, VHOST_IOTLB_ACCESS_FAIL,
  VHOST_IOTLB_BATCH_BEGIN, VHOST_IOTLB_BATCH_END, VHOST_IOTLB_INVALIDATE, VHOST_IOTLB_MISS, VHOST_IOTLB_MSG,
  VHOST_IOTLB_MSG_SIZE, VHOST_IOTLB_MSG_V2, VHOST_IOTLB_UPDATE, VHOST_MSG_IOTLB_OFFSET, VHOST_MSG_SIZE, iotlbMsg,
} from '../../src/vhost/msg.js';

// Recorded with gcc from the Linux uapi header (test/vhost/data/vhost-types.c; header line of the .txt says which).
const rec = readFileSync(repoPath('test/vhost/data/vhost-types.txt'), 'utf8');
const num = (re: RegExp): number[] => {
  const m = re.exec(rec);
  if (!m) throw new Error(`not in the recording: ${re}`);
  return m.slice(1).map(Number);
};

t.test('struct layouts match gcc on linux/vhost_types.h', async (t) => {
  t.same(num(/sizeof vhost_iotlb_msg (\d+)/), [VHOST_IOTLB_MSG_SIZE]);
  t.same(num(/sizeof vhost_msg (\d+) iotlb@(\d+)/), [VHOST_MSG_SIZE, VHOST_MSG_IOTLB_OFFSET]);
  t.same(num(/sizeof vhost_msg_v2 (\d+) asid@(\d+) iotlb@(\d+)/), [VHOST_MSG_SIZE, 4, VHOST_MSG_IOTLB_OFFSET]);
  const [iova, size, uaddr, perm, type] = num(/offsetof iova (\d+) size (\d+) uaddr (\d+) perm (\d+) type (\d+)/);
  // Encode a message with distinct bytes and find each field at the recorded offset.
  const b = encodeVhostMsg({ version: 2, asid: 7, iotlb: iotlbMsg(VHOST_IOTLB_UPDATE, 0x1122334455667788n, 0x1000n, 0x7f0000001000n, VHOST_ACCESS_RW) });
  const v = new DataView(b.buffer);
  const o = VHOST_MSG_IOTLB_OFFSET;
  t.equal(v.getUint32(0, true), VHOST_IOTLB_MSG_V2);
  t.equal(v.getUint32(4, true), 7, 'asid');
  t.equal(v.getBigUint64(o + iova!, true), 0x1122334455667788n);
  t.equal(v.getBigUint64(o + size!, true), 0x1000n);
  t.equal(v.getBigUint64(o + uaddr!, true), 0x7f0000001000n);
  t.equal(v.getUint8(o + perm!), VHOST_ACCESS_RW);
  t.equal(v.getUint8(o + type!), VHOST_IOTLB_UPDATE);
  t.equal(b.length, VHOST_MSG_SIZE);
  t.ok(b.subarray(o + 26).every((x) => x === 0), 'padding is zero');
});

t.test('numbers match the header', async (t) => {
  t.same(num(/VHOST_ACCESS_RO (\d+) WO (\d+) RW (\d+)/), [VHOST_ACCESS_RO, VHOST_ACCESS_WO, VHOST_ACCESS_RW]);
  t.same(num(/VHOST_IOTLB_MISS (\d+) UPDATE (\d+) INVALIDATE (\d+) ACCESS_FAIL (\d+) BATCH_BEGIN (\d+) BATCH_END (\d+)/),
    [VHOST_IOTLB_MISS, VHOST_IOTLB_UPDATE, VHOST_IOTLB_INVALIDATE, VHOST_IOTLB_ACCESS_FAIL, VHOST_IOTLB_BATCH_BEGIN, VHOST_IOTLB_BATCH_END]);
  t.same(num(/VHOST_IOTLB_MSG (\d+) VHOST_IOTLB_MSG_V2 (\d+)/), [VHOST_IOTLB_MSG, VHOST_IOTLB_MSG_V2]);
  t.same(num(/VHOST_BACKEND_F_IOTLB_MSG_V2 (\d+) IOTLB_BATCH (\d+) IOTLB_ASID (\d+) SUSPEND (\d+)/),
    [VHOST_BACKEND_F_IOTLB_MSG_V2, VHOST_BACKEND_F_IOTLB_BATCH, VHOST_BACKEND_F_IOTLB_ASID, VHOST_BACKEND_F_SUSPEND]);
});

t.test('decode: v1 has asid 0, a full-range INVALIDATE keeps size 0, other type words are refused', async (t) => {
  const v1 = encodeVhostMsg({ version: 1, asid: 9, iotlb: iotlbMsg(VHOST_IOTLB_INVALIDATE, 0n, 0n) });
  const d = readVhostMsg(new DataView(v1.buffer), 0)!;
  t.equal(d.version, 1);
  t.equal(d.asid, 0, 'vhost_msg has no asid');
  t.equal(d.iotlb.size, 0n);
  t.equal(d.iotlb.type, VHOST_IOTLB_INVALIDATE);
  const bad = new Uint8Array(VHOST_MSG_SIZE);
  bad[0] = 3;
  t.equal(readVhostMsg(new DataView(bad.buffer), 0), undefined);
  const max = encodeVhostMsg({ version: 2, asid: 0, iotlb: iotlbMsg(VHOST_IOTLB_INVALIDATE, (1n << 64n) - 1n, 1n) });
  t.equal(readVhostMsg(new DataView(max.buffer), 0)!.iotlb.iova, (1n << 64n) - 1n, 'u64 without loss');
});
