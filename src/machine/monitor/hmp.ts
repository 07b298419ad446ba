import { infoMtree } from '../../memory/mtree.js';
import type { Machine } from '../machine.js';
import { infoPci } from './info-pci.js';

/**
 * The human monitor commands viommu answers (QEMU's HMP, as QMP's
 * human-monitor-command runs them): `info pci`, `info mtree [-f] [-D]`.
 * Other commands answer with QEMU's "unknown command" text.
 */
export function humanMonitorCommand(m: Machine, line: string): string {
  const words = line.trim().split(/\s+/).filter(Boolean);
  if (words[0] === 'info') {
    const what = words[1];
    if (what === 'pci') return infoPci([m.rootBus]);
    if (what === 'mtree') {
      const flags = words.slice(2);
      const bad = flags.find((f) => f !== '-f' && f !== '-D');
      if (bad) return `info mtree: invalid option '${bad}'\n`;
      return infoMtree(m.mem, { flat: flags.includes('-f'), disabled: flags.includes('-D') });
    }
    return what === undefined ? 'info: missing subcommand (info pci, info mtree)\n' : `unknown command: 'info ${what}'\n`;
  }
  return `unknown command: '${words[0] ?? ''}'\n`;
}
