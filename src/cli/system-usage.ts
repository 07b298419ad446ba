/**
 * `viommu-system -help`, laid out as QEMU 7.2's `qemu-system-* -help`
 * (qemu-options.hx: the option's syntax at column 0, its description
 * indented by 16): only the options viommu's command line parser accepts.
 */
interface OptionHelp {
  /** Every spelling the parser accepts, without the leading '-'. */
  readonly names: readonly string[];
  /** The synopsis lines, as in QEMU's help. */
  readonly syntax: readonly string[];
  readonly help: readonly string[];
}

interface Section {
  readonly title: string;
  readonly options: readonly OptionHelp[];
}

/** The sections of `viommu-system -help`, in QEMU's order. */
export const SYSTEM_OPTION_HELP: readonly Section[] = [
  {
    title: 'Standard options',
    options: [
      { names: ['h', 'help'], syntax: ['-h or -help'], help: ['display this help and exit'] },
      { names: ['version'], syntax: ['-version'], help: ['display version information and exit'] },
      {
        names: ['machine', 'M'],
        syntax: ['-machine [type=]name[,prop[=value][,...]]', '-M name[,prop[=value][,...]]'],
        help: [
          "selects emulated machine ('-machine help' for list): q35 (default), virt, pseries",
          'virt: iommu=none|smmuv3 adds the SMMUv3; dumpdtb=FILE writes the device tree and exits',
          'accel=, kernel-irqchip= and other accelerator properties are accepted and ignored',
        ],
      },
      { names: ['cpu'], syntax: ['-cpu cpu'], help: ['accepted and ignored (viommu has no CPU)'] },
      { names: ['accel'], syntax: ['-accel [accel=]accelerator[,prop[=value][,...]]'], help: ['accepted and ignored (viommu has no CPU)'] },
      { names: ['smp'], syntax: ['-smp [cpus=]n[,...]'], help: ['accepted and ignored (viommu has no CPU)'] },
      {
        names: ['global'],
        syntax: ['-global driver.property=value', '-global driver=driver,property=property,value=value'],
        help: ['set a global default for a driver property (e.g. arm-smmuv3.ats=on, spapr-pci-host-bridge.ddw=off)'],
      },
      { names: ['m'], syntax: ['-m [size=]megs'], help: ['configure guest RAM (QEMU size suffixes; no suffix means MiB)'] },
    ],
  },
  {
    title: 'Device options',
    options: [
      {
        names: ['device'],
        syntax: ['-device driver[,prop[=value][,...]]'],
        help: [
          'add device (based on driver)',
          'prop=value,... sets driver properties',
          "use '-device help' to print all possible drivers",
          "use '-device driver,help' to print all possible properties",
        ],
      },
      { names: ['nodefaults'], syntax: ['-nodefaults'], help: ["don't create default devices (viommu creates none; accepted)"] },
    ],
  },
  {
    title: 'Display options',
    options: [{ names: ['display'], syntax: ['-display none'], help: ['select display backend type (viommu has no display: none only)'] }],
  },
  {
    title: 'Character device options',
    options: [
      {
        names: ['chardev'],
        syntax: ['-chardev socket,id=id,path=path[,server=on|off][,wait=on|off] (unix)', '-chardev stdio,id=id'],
        help: ['a character device for -mon'],
      },
    ],
  },
  {
    title: 'Debug/Expert options',
    options: [
      { names: ['qmp'], syntax: ['-qmp dev'], help: ['like -mon chardev=dev,mode=control (dev: stdio, unix:PATH[,server=on,wait=off])'] },
      { names: ['qmp-pretty'], syntax: ['-qmp-pretty dev'], help: ['like -qmp but uses pretty JSON formatting'] },
      { names: ['mon'], syntax: ['-mon [chardev=]name[,mode=control][,pretty[=on|off]]'], help: ['a QMP monitor on a -chardev (mode=control only)'] },
      { names: ['serial'], syntax: ['-serial none'], help: ['accepted (viommu has no serial port)'] },
      { names: ['monitor'], syntax: ['-monitor none'], help: ['accepted (the HMP is reached through QMP human-monitor-command)'] },
      { names: ['S'], syntax: ['-S'], help: ['freeze CPU at startup (accepted; viommu has no CPU)'] },
      {
        names: ['qtest'],
        syntax: ['-qtest dev'],
        help: ['serve the qtest protocol on dev (stdio, unix:PATH[,server=on,wait=off])', 'as QEMU with -accel qtest does'],
      },
      { names: ['qtest-log'], syntax: ['-qtest-log file'], help: ['log the qtest traffic to file (/dev/fd/2: stderr)'] },
      { names: ['seed'], syntax: ['-seed n'], help: ["seed of the machine's PRNG, 0 to 4294967295 (viommu extension; default 1)"] },
    ],
  },
];

/** The `-help` text. */
export function systemUsage(prog: string): string {
  const lines = [
    `${prog} (viommu 0.1.0), compatible with QEMU emulator version 7.2`,
    `usage: ${prog} [options]`,
    '',
  ];
  for (const s of SYSTEM_OPTION_HELP) {
    lines.push(`${s.title}:`);
    for (const o of s.options) {
      const [first, ...more] = o.help;
      const syntax = [...o.syntax];
      const last = syntax.pop()!;
      lines.push(...syntax);
      if (last.length < 16) lines.push(`${last.padEnd(16)}${first}`);
      else lines.push(last, `${' '.repeat(16)}${first}`);
      for (const h of more) lines.push(`${' '.repeat(16)}${h}`);
    }
    lines.push('');
  }
  return lines.join('\n');
}
