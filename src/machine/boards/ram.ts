import type { MemorySystem } from '../../memory/memory-system.js';
import type { MemoryRegion } from '../../memory/region.js';

/** Largest RAM block: one SharedArrayBuffer (V8 limit on 64-bit hosts). */
const MAX_BLOCK = 4 * 1024 * 1024 * 1024;

/**
 * A machine's main RAM region. Up to 4 GiB it is one RAM region (QEMU's
 * "pc.ram" / "mach-virt.ram"); larger RAM is a container of 4 GiB RAM
 * blocks named NAME@0, NAME@1, ..., since one SharedArrayBuffer holds at
 * most 4 GiB.
 */
export function mainRam(mem: MemorySystem, name: string, size: number): MemoryRegion {
  if (size <= MAX_BLOCK) return mem.ram(name, size);
  const c = mem.container(name, size);
  for (let off = 0, i = 0; off < size; off += MAX_BLOCK, i++) {
    c.addSubregion(mem.ram(`${name}@${i}`, Math.min(MAX_BLOCK, size - off)), off);
  }
  return c;
}
