import { SCENARIO_BOUND_NS, type ViommuSpec } from './axes.js';
import type { MatrixConsumer, ConsumerCell } from './consumer.js';

/** Operations per scenario: enough to cross every notifier path, small enough for CI (virtual time is free, real time is not). */
export const SCENARIO_OPS = { steady: 8, churn: 8, hotplugEach: 3 } as const;

function deviceOpt(c: MatrixConsumer, cell: ConsumerCell, id: string, bus: string | undefined): string {
  const d = c.device(cell);
  return ['-device', [d.driver, `id=${id}`, ...(bus ? [`bus=${bus}`] : []), ...Object.entries(d.props).map(([k, v]) => `${k}=${v}`)].join(',')].join(' ');
}

function deviceAdd(c: MatrixConsumer, cell: ConsumerCell, id: string, bus: string | undefined): object {
  const d = c.device(cell);
  return { execute: 'device_add', arguments: { driver: d.driver, id, ...(bus ? { bus } : {}), ...d.props } };
}

/**
 * The `viommu hotplug` script of a cell: the machine in its header, the
 * scenario as steps. The matrix-* guest actions are the cell's own
 * (cell.ts registers them with the run): they drive the consumer and
 * collect what it did; everything else is an ordinary hotplug step, so a
 * cell can be replayed by hand with `viommu hotplug`.
 */
export function cellScript(v: ViommuSpec, c: MatrixConsumer, cell: ConsumerCell): string {
  const dmaMode = cell.scenario === 'churn-strict' ? 'strict' : 'lazy';
  const regress = cell.mode === 'seed000' || cell.mode === 'seed004' ? [cell.mode] : [];
  const cold = cell.scenario === 'hotplug' ? 'c0' : 'c1';
  const header = { machine: `${v.machine} ${deviceOpt(c, cell, cold, v.coldBus)}`, boot: { dmaMode, regress }, seed: 1 };
  const steps: object[] = [{ guest: 'matrix-collect' }];
  switch (cell.scenario) {
    case 'steady':
      steps.push({ guest: 'matrix-steady', device: 'c1', ops: SCENARIO_OPS.steady });
      break;
    case 'churn-strict':
    case 'churn-lazy':
      steps.push({ guest: 'matrix-churn', device: 'c1', ops: SCENARIO_OPS.churn });
      break;
    case 'bind-unbind':
      steps.push({ guest: 'matrix-bind-unbind', device: 'c1' });
      break;
    case 'hotplug': {
      const n = SCENARIO_OPS.hotplugEach;
      steps.push(
        { guest: 'matrix-steady', device: 'c0', ops: n },
        deviceAdd(c, cell, 'c1', v.hotBus),
        { expect: { return: {} }, stop_on_failure: true },
        { wait: '3s' },
        { guest: 'matrix-steady', device: 'c1', ops: n },
        { guest: 'matrix-steady', device: 'c0', ops: n },
        { guest: 'matrix-collect', device: 'c1' },
        { execute: 'device_del', arguments: { id: 'c1' } },
        { expect: { return: {} } },
        { guest: 'matrix-steady', device: 'c0', ops: n },
        { guest: 'ack-unplug', slot: v.hotBus ?? 'c1' },
        { guest: 'matrix-steady', device: 'c0', ops: n },
        { expect: { event: 'DEVICE_DELETED', data: { device: 'c1' } }, within: '6s' },
        deviceAdd(c, cell, 'c2', v.hotBus),
        { expect: { return: {} } },
        { wait: '3s' },
        { guest: 'matrix-steady', device: 'c2', ops: n },
        { guest: 'matrix-collect', device: 'c2' },
      );
      break;
    }
  }
  steps.push({ guest: 'matrix-collect', device: cold });
  return [JSON.stringify(header), ...steps.map((s) => JSON.stringify(s))].join('\n') + '\n';
}

export function scenarioBound(cell: ConsumerCell): number {
  return SCENARIO_BOUND_NS[cell.scenario];
}
