import { infoMtree } from '../../memory/mtree.js';
import type { Machine } from '../machine.js';
import { infoPci } from './info-pci.js';
import { infoQtree } from './info-qtree.js';

interface InfoCommand {
  readonly args: string;
  readonly help: string;
  run(m: Machine, flags: string[]): string;
}

/** `info` subcommands (QEMU hmp-commands-info.hx; `info iommu` is viommu's own). */
const INFO: Readonly<Record<string, InfoCommand>> = {
  iommu: {
    args: '',
    help: 'show each vIOMMU, its endpoints, notifiers and flags, IOTLB occupancy and counters',
    run: (m) => (m.iommuInfo.length === 0 ? 'No vIOMMU on this machine\n' : m.iommuInfo.map((i) => i.info()).join('\n')),
  },
  mtree: {
    args: '[-f][-d][-o][-D]',
    help: 'show memory tree (-f: dump flat view for address spaces;-d: dump dispatch tree, valid with -f only);-o: dump region owners/parents;-D: dump disabled regions',
    run: (m, flags) => {
      for (const f of flags) {
        if (f !== '-f' && f !== '-D') return `mtree: unsupported option ${f}\nTry "help info mtree" for more information\n`;
      }
      return infoMtree(m.mem, { flat: flags.includes('-f'), disabled: flags.includes('-D') });
    },
  },
  pci: { args: '', help: 'show PCI info', run: (m) => infoPci([m.rootBus]) },
  qtree: { args: '', help: 'show device tree', run: (m) => infoQtree(m) },
};

function infoHelp(): string {
  return Object.entries(INFO).map(([k, c]) => `info ${k}${c.args ? ` ${c.args}` : ''} -- ${c.help}\n`).join('');
}

/**
 * The human monitor commands viommu answers (QEMU's HMP, as QMP's
 * human-monitor-command runs them), with QEMU's texts for unknown commands
 * and options. Returns text with "\n" line ends.
 */
export function humanMonitorCommand(m: Machine, line: string): string {
  const words = line.trim().split(/\s+/).filter(Boolean);
  const cmd = words[0] ?? '';
  if (cmd === 'info') {
    const what = words[1];
    if (what === undefined) return infoHelp();
    const c = INFO[what];
    if (!c) return `unknown command: 'info ${what}'\n`;
    return c.run(m, words.slice(2));
  }
  if (cmd === 'help' || cmd === '?') return infoHelp();
  if (cmd === '') return '';
  return `unknown command: '${cmd}'\n`;
}
