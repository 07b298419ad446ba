import type { AddressSpace } from './address-space.js';
import type { FlatView } from './flat-view.js';
import type { MemorySystem } from './memory-system.js';
import { AliasRegion, RamRegion, type MemoryRegion } from './region.js';

/**
 * `info mtree` and `info mtree -f` in QEMU's line formats (softmmu/memory.c
 * mtree_print_mr, mtree_print_flatview; QEMU 7.2): "%016x-%016x (prio P,
 * TYPE): NAME", two spaces of indent per level, aliases as "alias NAME
 * @TARGET start-end", alias targets listed afterwards as "memory-region:".
 */
export interface MtreeOptions {
  /** -f: print the flat views. */
  flat?: boolean;
  /** -D: include disabled regions, marked " [disabled]". */
  disabled?: boolean;
}

const INDENT = '  ';
const MASK64 = (1n << 64n) - 1n;

function hex(v: bigint): string {
  return (v & MASK64).toString(16).padStart(16, '0');
}

/** MR_SIZE: size - 1, or 0 for an empty region. */
function lastByte(size: bigint): bigint {
  return size === 0n ? 0n : size - 1n;
}

/** memory_region_type: an alias shows its target's type. */
export function regionType(mr: MemoryRegion): string {
  if (mr instanceof AliasRegion) return regionType(mr.target);
  if (mr instanceof RamRegion) return mr.readonly ? 'rom' : 'ram';
  return 'i/o';
}

function printRegion(lines: string[], mr: MemoryRegion, level: number, base: bigint, aliasQueue: MemoryRegion[],
  disabled: boolean): void {
  const start = base + mr.addr;
  const end = start + lastByte(mr.size);
  const nv = mr.nonvolatile ? 'nv-' : '';
  const dis = mr.enabled ? '' : ' [disabled]';
  const head = `${INDENT.repeat(level)}${hex(start)}-${hex(end)} (prio ${mr.priority}, ${nv}${regionType(mr)}): `;
  if (mr instanceof AliasRegion) {
    if (!aliasQueue.includes(mr.target)) aliasQueue.push(mr.target);
    if (mr.enabled || disabled) {
      lines.push(`${head}alias ${mr.name} @${mr.target.name} ${hex(mr.aliasOffset)}-${hex(mr.aliasOffset + lastByte(mr.size))}${dis}`);
    }
  } else if (mr.enabled || disabled) {
    lines.push(`${head}${mr.name}${dis}`);
  }
  // Children sorted by address, then by descending priority; stable otherwise.
  const kids: MemoryRegion[] = [];
  for (const sub of mr.subregions) {
    let i = 0;
    while (i < kids.length && !(sub.addr < kids[i]!.addr || (sub.addr === kids[i]!.addr && sub.priority > kids[i]!.priority))) i++;
    kids.splice(i, 0, sub);
  }
  for (const k of kids) printRegion(lines, k, level + 1, start, aliasQueue, disabled);
}

function printTree(system: MemorySystem, disabled: boolean): string {
  const lines: string[] = [];
  const byRoot = new Map<MemoryRegion, AddressSpace[]>();
  for (const as of system.addressSpaces) {
    if (!as.root) continue;
    const list = byRoot.get(as.root) ?? [];
    list.push(as);
    byRoot.set(as.root, list);
  }
  const aliasQueue: MemoryRegion[] = [];
  for (const [root, list] of byRoot) {
    for (const as of [...list].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      lines.push(`address-space: ${as.name}`);
    }
    printRegion(lines, root, 1, 0n, aliasQueue, disabled);
    lines.push('');
  }
  // The queue grows while it is printed: aliases of aliases follow.
  for (let i = 0; i < aliasQueue.length; i++) {
    const mr = aliasQueue[i]!;
    lines.push(`memory-region: ${mr.name}`);
    printRegion(lines, mr, 1, 0n, aliasQueue, disabled);
    lines.push('');
  }
  return lines.join('\n') + '\n';
}

function printFlat(system: MemorySystem): string {
  const lines: string[] = [];
  const views: FlatView[] = [];
  const members = new Map<FlatView, AddressSpace[]>();
  for (const as of system.addressSpaces) {
    if (!members.has(as.view)) {
      views.push(as.view);
      members.set(as.view, []);
    }
    members.get(as.view)!.push(as);
  }
  views.forEach((view, n) => {
    lines.push(`FlatView #${n}`);
    for (const as of members.get(view)!) {
      const alias = as.root instanceof AliasRegion ? `, alias ${as.root.target.name}` : '';
      lines.push(` AS "${as.name}", root: ${as.root ? as.root.name : '(none)'}${alias}`);
    }
    lines.push(` Root memory region: ${view.root ? view.root.name : '(none)'}`);
    if (view.ranges.length === 0) {
      lines.push(`${INDENT}No rendered FlatView`);
      lines.push('');
      return;
    }
    for (const r of view.ranges) {
      const type = r.readonly ? 'rom' : regionType(r.mr);
      const nv = r.nonvolatile ? 'nv-' : '';
      const at = r.offsetInRegion !== 0n ? ` @${hex(r.offsetInRegion)}` : '';
      lines.push(`${INDENT}${hex(r.start)}-${hex(r.start + lastByte(r.size))} (prio ${r.mr.priority}, ${nv}${type}): ${r.mr.name}${at}`);
    }
    lines.push('');
  });
  return lines.join('\n') + '\n';
}

/** The text of `info mtree [-f] [-D]`. */
export function infoMtree(system: MemorySystem, opts: MtreeOptions = {}): string {
  return opts.flat ? printFlat(system) : printTree(system, opts.disabled ?? false);
}
