import { gridChart, type GridCell } from './grid.js';
import { htmlPage, htmlTable, type ReportSection } from './html-page.js';

/**
 * What the matrix report reads of a matrix run: the fields of
 * MatrixResult (src/cli/matrix/types.ts) it needs, so that any
 * MatrixResult can be passed as it is.
 */
export interface MatrixReportInput {
  readonly cells: readonly {
    readonly viommu: string;
    readonly consumer: string;
    readonly ats: boolean;
    readonly scenario: string;
    readonly mode: string;
    readonly status: 'works' | 'refused' | 'broken';
    readonly notifierFlags?: string;
    readonly message?: string;
    readonly notes?: readonly string[];
    readonly broken?: { readonly details: readonly string[]; readonly oracleViolations: number; readonly hang: boolean; readonly wrongData: number };
  }[];
  readonly totals: { readonly cells: number; readonly works: number; readonly refused: number; readonly broken: number };
  readonly shard?: { readonly index: number; readonly count: number };
}

type Cell = MatrixReportInput['cells'][number];

/** The hover text of a cell: the refusal message, what broke, or the notifier flags the consumer got. */
export function cellMessage(c: Cell): string {
  const parts: string[] = [];
  if (c.status === 'refused' && c.message) parts.push(c.message);
  if (c.status === 'broken' && c.broken) {
    const b = c.broken;
    const what = [b.oracleViolations ? `${b.oracleViolations} oracle violations` : '', b.hang ? 'hang' : '', b.wrongData ? `${b.wrongData} wrong transfers` : ''].filter(Boolean);
    parts.push([what.join(', '), ...b.details].filter(Boolean).join('; '));
  }
  if (c.status === 'works' && c.notifierFlags) parts.push(`notifiers: ${c.notifierFlags}`);
  if (c.notes?.length) parts.push(...c.notes);
  return parts.join(' | ');
}

function uniq(xs: readonly string[]): string[] {
  return [...new Set(xs)];
}

/**
 * The HTML report of a matrix run: one coloured grid per mode (the fixed
 * model, then each regression mode), rows vIOMMU x guest ATS, columns
 * consumer x scenario, each cell works / refused / broken with its message
 * on hover; then the totals and a table of the cells that did not work.
 * Rows and columns are those the run covered, in its (canonical) order.
 */
export function matrixReport(m: MatrixReportInput, commandLine: string): string {
  const modes = uniq(m.cells.map((c) => c.mode));
  const rowOf = (c: Cell) => `${c.viommu} (ATS ${c.ats ? 'on' : 'off'})`;
  const colOf = (c: Cell) => `${c.consumer} · ${c.scenario}`;
  const sections: ReportSection[] = modes.map((mode) => {
    const cells = m.cells.filter((c) => c.mode === mode);
    const grid: GridCell[] = cells.map((c) => ({ row: rowOf(c), column: colOf(c), state: c.status, message: cellMessage(c) }));
    const title = mode === 'fixed' ? 'vIOMMU x consumer (fixed model)' : `vIOMMU x consumer, regression mode ${mode}`;
    const n = (s: string) => cells.filter((c) => c.status === s).length;
    return {
      heading: mode === 'fixed' ? 'Fixed model' : `Regression mode: ${mode}`,
      note: `${cells.length} cells: ${n('works')} works, ${n('refused')} refused, ${n('broken')} broken. Hover a cell for the refusal message or what broke.`,
      body: `<div class="wide">${gridChart({ title, rows: uniq(cells.map(rowOf)), columns: uniq(cells.map(colOf)), cells: grid, rowLabel: 'vIOMMU (guest ATS)', columnLabel: 'consumer · scenario' })}</div>`,
    };
  });
  const notWorking = m.cells.filter((c) => c.status !== 'works');
  sections.push({
    heading: 'Cells that do not work',
    body: notWorking.length
      ? htmlTable(['mode', 'vIOMMU', 'consumer', 'ATS', 'scenario', 'status', 'message'],
        notWorking.map((c) => [c.mode, c.viommu, c.consumer, c.ats ? 'on' : 'off', c.scenario, c.status, cellMessage(c)]))
      : '<p>Every cell works.</p>',
  });
  const t = m.totals;
  const meta = [
    `Command: ${commandLine}`,
    `${t.cells} cells: ${t.works} works, ${t.refused} refused, ${t.broken} broken${m.shard ? ` (shard ${m.shard.index}/${m.shard.count})` : ''}.`,
  ];
  return htmlPage('viommu matrix', meta, sections);
}
