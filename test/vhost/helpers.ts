import { bootMachine } from '../../src/cli/boot.js';
import type { GuestKernel } from '../../src/guest/kernel.js';
import type { BootReport } from '../../src/guest/report/report.js';
import type { DmaMode } from '../../src/guest/boot.js';
import { parseCmdline } from '../../src/machine/cmdline.js';
import { Machine } from '../../src/machine/machine.js';
import { VirtioNetPci } from '../../src/virtio/net/virtio-net-pci.js';
import { vhostNetOf } from '../../src/vhost/api.js';
import type { VhostNet } from '../../src/vhost/vhost-net.js';

export interface Booted {
  readonly m: Machine;
  readonly report: BootReport;
  readonly log: string;
  /** The first virtio-net-pci function (vhost or not). */
  readonly dev: VirtioNetPci;
  readonly vhost: VhostNet | undefined;
  readonly traffic: { ok: boolean; errors: readonly string[]; details: Readonly<Record<string, number>> } | undefined;
}

/** Builds a machine from QEMU arguments and boots the synthetic guest on it (traffic workload by default). */
export function bootNet(args: string[], opts: { scenario?: (k: GuestKernel, m: Machine) => void; workloads?: { name: string; params?: Record<string, string | number> }[]; dmaMode?: DmaMode } = {}): Booted {
  const m = Machine.create(parseCmdline(args).config);
  const report = bootMachine(m, {
    dmaMode: opts.dmaMode ?? 'strict', seed: 1, regress: [],
    workloads: opts.workloads ?? [{ name: 'traffic' }],
    ...(opts.scenario ? { scenario: (k: GuestKernel) => opts.scenario!(k, m) } : {}),
  });
  const dev = m.pciDevices().find((d): d is VirtioNetPci => d instanceof VirtioNetPci);
  if (!dev) throw new Error('no virtio-net-pci on the machine');
  const t = report.workloads.find((w) => w.name === 'traffic');
  return {
    m, report, dev, vhost: vhostNetOf(dev), log: m.log.lines.map((l) => `${l.source}: ${l.text}`).join('\n'),
    traffic: t ? { ok: t.ok, errors: t.errors, details: t.details } : undefined,
  };
}

/** The guest's function of the first virtio-net device. */
export function guestNet(k: GuestKernel) {
  const d = k.devices.find((x) => x.pci?.vendor === 0x1af4 && x.pci.device === 0x1041);
  if (!d?.pci) throw new Error('guest sees no virtio-net');
  return d;
}
