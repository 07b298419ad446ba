import { humanMonitorCommand } from '../machine/monitor/hmp.js';
import type { Machine } from '../machine/machine.js';

/**
 * Runs a human monitor command (`info iommu`, `info mtree`, `info pci`,
 * `info qtree`, ...) as QMP's human-monitor-command does, and returns its
 * text with "\n" line ends. Unknown commands get QEMU's message as text.
 */
export function hmp(machine: Machine, commandLine: string): string {
  return humanMonitorCommand(machine, commandLine);
}
