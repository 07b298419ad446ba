import t from 'tap';
import { pseries } from './helpers.js';

t.test('pseries INTx: function 0 of slot 0 raises LSI 0x1200, as QEMU 7.2 and the device tree\'s interrupt-map say', async (t) => {
  const { m, board } = pseries('-device', 'edu', '-device', 'edu');
  const levels = new Map<number, number>();
  board.intc.listen((n, l) => levels.set(n, l));
  const cfg = (slot: number, off: number, size: number, v?: number) => {
    const args = [(slot << 11) | off, 0x08000000, 0x20000000, size];
    return v === undefined ? board.rtas.callWithArrays(0x2016, args, 2) : board.rtas.callWithArrays(0x2017, [...args, v], 1);
  };
  for (const [slot, bar] of [[0, 0x200080000000], [1, 0x200080100000]] as const) {
    cfg(slot, 0x10, 4, bar & 0xffffffff);
    cfg(slot, 0x04, 2, 0x2);
    m.systemAs.write(bar + 0x60, 4, 0x01000000); // edu IRQ raise (native-endian register on a big-endian target)
  }
  t.equal(levels.get(0x1200), 1, 'slot 0 INTA');
  t.equal(levels.get(0x1201), 1, 'slot 1 INTA swizzles to INTB');
  t.notOk(levels.has(0x1000), 'nothing on the old numbering');
});
