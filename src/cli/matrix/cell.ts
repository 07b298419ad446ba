import type { GuestDevice } from '../../guest/device.js';
import type { GuestKernel } from '../../guest/kernel.js';
import { pciAtsEnabled, pciAtsSupported, pciEnableAts } from '../../guest/pci-core/ats.js';
import type { ActionContext, ActionResult, GuestAction } from '../hotplug/actions.js';
import { runHotplugScript } from '../hotplug/run.js';
import { ScriptError } from '../hotplug/script.js';
import { cellKey, type ViommuSpec } from './axes.js';
import type { ConsumerCell, ConsumerDevice, MatrixConsumer, TrafficResult } from './consumer.js';
import { cellScript, scenarioBound } from './script.js';
import type { CellCounts, MatrixCell } from './types.js';

const MAX_DETAILS = 4;

/** What a cell's actions gather while its script runs (one per cell: no shared state). */
class CellAccumulator {
  kernel: GuestKernel | undefined;
  ops = 0;
  bytes = 0;
  wrongData = 0;
  hang = false;
  refused: string | undefined;
  flags: string | undefined;
  readonly events = { map: 0, unmap: 0, devIotlb: 0 };
  readonly details: string[] = [];
  readonly notes = new Set<string>();
  readonly atsDone = new Set<GuestDevice>();

  add(r: TrafficResult): void {
    this.ops += r.ops;
    this.bytes += r.bytes;
    this.wrongData += r.wrongData;
    this.hang ||= r.hang;
    this.refused ??= r.refused;
    for (const e of r.errors) if (this.details.length < MAX_DETAILS) this.details.push(e);
    for (const n of r.notes ?? []) this.notes.add(n);
  }
}

const ok: ActionResult = { ok: true, detail: 'recorded' };

/**
 * Guest ATS on: the guest enables the device's ATS capability (Linux
 * pci_enable_ats, STU 4 KiB) if its IOMMU driver has not already, as a
 * guest that wants translated requests does whatever the vIOMMU says
 * (the vhost registration tests do the same). That is how a vIOMMU
 * without device-IOTLB support meets a DEVIOTLB_UNMAP registration
 * (seed 002). A device without the capability stays as it is.
 */
function guestAts(dev: GuestDevice, acc: CellAccumulator): void {
  const pci = dev.pci;
  if (!pci || !pciAtsSupported(pci)) {
    acc.notes.add('ATS: the device offers no ATS capability');
    return;
  }
  if (pciAtsEnabled(pci)) {
    acc.notes.add('ATS: enabled by the guest\'s IOMMU driver');
    return;
  }
  pciEnableAts(pci, 12);
  acc.notes.add('ATS: enabled by the guest (its IOMMU driver did not)');
}

/** The matrix-* guest actions of one cell, bound to its accumulator. */
function cellActions(acc: CellAccumulator, c: MatrixConsumer, cell: ConsumerCell): GuestAction[] {
  const device = { type: 'string' as const, required: true, help: 'the consumer (QEMU id)' };
  const ops = { type: 'integer' as const, help: 'operations' };
  const withDev = (a: ActionContext, ref: string, f: (dev: ConsumerDevice) => TrafficResult): ActionResult => {
    acc.kernel = a.kernel;
    const d = a.device(ref);
    if (!d.guest) {
      if (!acc.refused) acc.add({ ops: 0, bytes: 0, wrongData: 1, hang: false, errors: [`the guest has no device ${ref}${d.machine ? ' (the machine has it)' : ''}`] });
      return ok;
    }
    if (cell.ats && !acc.atsDone.has(d.guest)) {
      acc.atsDone.add(d.guest);
      guestAts(d.guest, acc);
    }
    acc.add(f({ guest: d.guest, machine: d.machine }));
    return ok;
  };
  return [
    { name: 'matrix-steady', summary: 'matrix: steady traffic', params: { device, ops }, run: (a, args) => withDev(a, args['device'] as string, (g) => c.steady(a, g, args['ops'] as number, cell)) },
    { name: 'matrix-churn', summary: 'matrix: unmap churn', params: { device, ops }, run: (a, args) => withDev(a, args['device'] as string, (g) => c.churn(a, g, args['ops'] as number, cell)) },
    { name: 'matrix-bind-unbind', summary: 'matrix: VFIO bind/unbind', params: { device }, run: (a, args) => withDev(a, args['device'] as string, (g) => c.bindUnbind(a, g, cell)) },
    {
      name: 'matrix-collect',
      summary: 'matrix: record the consumer\'s notifier use',
      params: { device: { type: 'string', help: 'the consumer (QEMU id)' } },
      run(a, args) {
        acc.kernel = a.kernel;
        const ref = args['device'] as string | undefined;
        const m = ref ? a.device(ref).machine : undefined;
        const u = m ? c.notifierUse(m, cell) : undefined;
        if (u) {
          acc.flags ??= u.flags;
          acc.events.map += u.map;
          acc.events.unmap += u.unmap;
          acc.events.devIotlb += u.devIotlb;
        }
        return ok;
      },
    },
  ];
}

/** A QMP error reply as a script record shows it: its desc. */
function qmpErrorDesc(got: string | undefined): string | undefined {
  if (!got) return undefined;
  try {
    const v = JSON.parse(got) as { error?: { desc?: string } };
    return v.error?.desc;
  } catch {
    return undefined;
  }
}

/** Runs one cell: builds its machine and script, runs it, judges works / refused / broken. */
export function runCell(v: ViommuSpec, c: MatrixConsumer, cell: ConsumerCell, seed: number): MatrixCell {
  const acc = new CellAccumulator();
  const key = cellKey(v.id, c.id, cell.ats, cell.scenario, cell.mode);
  let end = 0;
  let failedSteps = 0;
  try {
    const run = runHotplugScript(cellScript(v, c, cell), `matrix:${key}`, { seed, actions: cellActions(acc, c, cell) });
    for (const r of run.records) {
      end = Math.max(end, r.end);
      if (r.outcome !== 'fail') continue;
      // A command the machine refused (device_add on a bus without hot-plug): a refusal, not a broken DMA path.
      const desc = r.kind === 'expect' ? qmpErrorDesc(r.got) : undefined;
      if (desc !== undefined && !acc.refused) {
        acc.refused = desc;
        continue;
      }
      failedSteps++;
      if (acc.details.length < MAX_DETAILS) acc.details.push(`${r.description}: ${r.got ?? r.detail}`);
    }
  } catch (e) {
    if (!(e instanceof ScriptError)) throw e;
    // The realize error without the "-device DRIVER,id=..,bus=..: " prefix, so cells with different ids share it.
    acc.refused = e.problem.replace(/^-device [^:\s]+: /, '');
  }
  const oracle = acc.kernel?.oracle;
  const violations = oracle?.violationCount ?? 0;
  if (oracle) acc.details.unshift(...oracle.violations.slice(0, 2).map((x) => x.message));
  acc.details.splice(MAX_DETAILS);
  const hang = acc.hang || end > scenarioBound(cell);
  const wrongData = acc.wrongData + failedSteps;
  const counts: CellCounts = {
    dmaChecked: oracle?.counts.checked ?? 0,
    dmaOk: oracle?.counts.ok ?? 0,
    dmaFaults: oracle?.counts.faults ?? 0,
    ops: acc.ops,
    bytes: acc.bytes,
    mapEvents: acc.events.map,
    unmapEvents: acc.events.unmap,
    devIotlbEvents: acc.events.devIotlb,
    virtualNs: end,
  };
  const base = { key, viommu: v.id, consumer: c.id, ats: cell.ats, scenario: cell.scenario, mode: cell.mode, counts };
  const notes = acc.notes.size ? { notes: [...acc.notes] } : {};
  if (violations > 0 || hang || wrongData > 0) {
    return { ...base, status: 'broken', ...notes, broken: { oracleViolations: violations, hang, wrongData, details: acc.details } };
  }
  if (acc.refused !== undefined) return { ...base, status: 'refused', message: acc.refused, ...notes };
  return { ...base, status: 'works', notifierFlags: acc.flags ?? 'none', ...notes };
}
