import { cellKey, MODES, modeAppliesToViommu, SCENARIOS, VIOMMUS, type ViommuSpec } from './axes.js';
import { runCell } from './cell.js';
import { consumerApplies, type ConsumerCell, type MatrixConsumer } from './consumer.js';
import { CONSUMERS } from './consumers.js';
import type { MatrixCell, MatrixOptions, MatrixResult, MatrixTotals } from './types.js';

/** One cell to run, before it runs. */
export interface PlannedCell {
  readonly key: string;
  readonly viommu: ViommuSpec;
  readonly consumer: MatrixConsumer;
  readonly cell: ConsumerCell;
}

/** MatrixOptions plus plug-in consumers. */
export interface RunMatrixOptions extends MatrixOptions {
  /** Consumers to run instead of the built-in ones (plug-ins). */
  readonly consumerPlugins?: readonly MatrixConsumer[];
}

/** Every applicable cell in canonical order (vIOMMU, consumer, ATS off/on, scenario, mode), restricted by `o`. */
export function planMatrix(o: RunMatrixOptions = {}): PlannedCell[] {
  const consumers = (o.consumerPlugins ?? CONSUMERS).filter((c) => !o.consumers || o.consumers.includes(c.id));
  const out: PlannedCell[] = [];
  for (const v of VIOMMUS) {
    if (o.viommus && !o.viommus.includes(v.id)) continue;
    for (const c of consumers) {
      for (const ats of [false, true]) {
        for (const scenario of SCENARIOS) {
          if (o.scenarios && !o.scenarios.includes(scenario)) continue;
          for (const mode of MODES) {
            if (o.modes && !o.modes.includes(mode)) continue;
            if (!modeAppliesToViommu(mode, v) || !consumerApplies(c, mode)) continue;
            out.push({ key: cellKey(v.id, c.id, ats, scenario, mode), viommu: v, consumer: c, cell: { viommu: v, ats, scenario, mode } });
          }
        }
      }
    }
  }
  if (!o.shard) return out;
  const { index, count } = o.shard;
  return out.filter((_, i) => i % count === index - 1);
}

export function totalsOf(cells: readonly MatrixCell[]): MatrixTotals {
  return {
    cells: cells.length,
    works: cells.filter((c) => c.status === 'works').length,
    refused: cells.filter((c) => c.status === 'refused').length,
    broken: cells.filter((c) => c.status === 'broken').length,
  };
}

/** Assembles a MatrixResult from cells (also used to merge shards). */
export function matrixResult(cells: readonly MatrixCell[], o: RunMatrixOptions = {}): MatrixResult {
  const consumers = (o.consumerPlugins ?? CONSUMERS).filter((c) => !o.consumers || o.consumers.includes(c.id));
  const byMode: Record<string, MatrixTotals> = {};
  for (const m of MODES) {
    const mine = cells.filter((c) => c.mode === m);
    if (mine.length) byMode[m] = totalsOf(mine);
  }
  return {
    version: 1,
    axes: {
      viommus: VIOMMUS.map((v) => v.id).filter((id) => !o.viommus || o.viommus.includes(id)),
      consumers: consumers.map((c) => c.id),
      ats: [false, true],
      scenarios: SCENARIOS.filter((s) => !o.scenarios || o.scenarios.includes(s)),
      modes: MODES.filter((m) => !o.modes || o.modes.includes(m)),
    },
    ...(o.shard ? { shard: o.shard } : {}),
    cells,
    totals: totalsOf(cells),
    byMode,
  };
}

/**
 * `viommu matrix` as a function: runs every planned cell (or the shard's
 * slice) in canonical order and returns the typed result. Cells are
 * independent machines; the same options give the same result.
 */
export async function runMatrix(o: RunMatrixOptions = {}): Promise<MatrixResult> {
  const plan = planMatrix(o);
  const cells: MatrixCell[] = [];
  for (const p of plan) {
    const cell = runCell(p.viommu, p.consumer, p.cell, o.seed ?? 1);
    cells.push(cell);
    o.onCell?.(cells.length, plan.length, cell);
    // Let a progress bar (or a signal) in between cells.
    await new Promise<void>((r) => setImmediate(r));
  }
  return matrixResult(cells, o);
}
