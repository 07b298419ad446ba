import type { BoardType } from './board.js';
import { pseriesType } from './pseries/pseries.js';
import { q35Type } from './q35/q35.js';
import { virtType } from './virt.js';

/** The machine types viommu offers (-machine NAME). */
export const BOARD_TYPES: readonly BoardType[] = [q35Type, virtType, pseriesType];

export function findBoardType(name: string): BoardType | undefined {
  return BOARD_TYPES.find((t) => t.names.includes(name));
}

/** `-machine help`, in QEMU's format. */
export function machineHelp(): string {
  const lines = ['Supported machines are:'];
  for (const t of BOARD_TYPES) {
    lines.push(`${t.names[0]!.padEnd(20)} ${t.desc}`);
    for (const n of t.names.slice(1)) lines.push(`${n.padEnd(20)} ${t.desc.replace(/ \(alias of .*\)$/, '')}`);
  }
  return lines.join('\n') + '\n';
}
