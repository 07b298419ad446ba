import { SettlePoint } from '../base/settle-point.js';
import type { AddressSpace } from '../memory/address-space.js';
import { RamRegion } from '../memory/region.js';

/**
 * The machine's SettlePoint, armed on the CPU's view of memory while a
 * backend thread (a vhost worker) has work in flight: every CPU read
 * (RAM or MMIO: the guest looking at a used ring, an ISR, a status
 * register) and every CPU write to RAM (a descriptor, an avail index, a
 * page-table entry the backend may be reading) settles the outstanding
 * work first, so what the guest sees and what the backend reads never
 * depend on thread timing. MMIO writes (doorbells: the kick of a second
 * device) do not settle, which is what lets two backends run at once;
 * their device models settle what they need themselves.
 */
export function cpuSettlePoint(cpu: AddressSpace): SettlePoint {
  const hook = (addr: number | bigint, isWrite: boolean): void => {
    if (isWrite) {
      const fr = typeof addr === 'bigint' ? cpu.view.lookupBig(addr) : cpu.view.lookup(addr);
      if (!(fr?.mr instanceof RamRegion)) return;
    }
    sp.settle();
  };
  const sp: SettlePoint = new SettlePoint((busy) => {
    cpu.beforeAccess = busy ? hook : undefined;
  });
  return sp;
}
