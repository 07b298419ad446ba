import { el, label, svgRoot, text } from './svg.js';

/** The state of one grid cell; the matrix uses works / refused / broken. */
export type CellState = 'works' | 'refused' | 'broken' | 'skipped';

export interface GridCell {
  readonly row: string;
  readonly column: string;
  readonly state: CellState;
  /** Shown on hover (the vIOMMU's refusal message, what broke). */
  readonly message?: string;
}

export interface GridInput {
  readonly title: string;
  readonly rows: readonly string[];
  readonly columns: readonly string[];
  readonly cells: readonly GridCell[];
  /** Axis captions, e.g. "vIOMMU" and "consumer". */
  readonly rowLabel?: string;
  readonly columnLabel?: string;
}

/** Fill colour and cell text of each state. */
export const CELL_STYLE: Readonly<Record<CellState, { readonly fill: string; readonly mark: string }>> = {
  works: { fill: '#2e9e57', mark: 'works' },
  refused: { fill: '#e8a317', mark: 'refused' },
  broken: { fill: '#d0312d', mark: 'BROKEN' },
  skipped: { fill: '#b8b8b8', mark: 'n/a' },
};

const CELL_H = 34;

/**
 * The matrix as a coloured grid: one row per `rows` entry, one column per
 * `columns` entry, each cell filled by its state with the state written in
 * it and its message in an SVG <title> (the browser's hover tooltip). A
 * missing cell is drawn empty (white, "?"). A legend counts each state.
 */
export function gridChart(g: GridInput): string {
  // Wide matrices (consumer x scenario columns) get narrower cells; the marks still fit.
  const CELL_W = g.columns.length > 8 ? 84 : 118;
  const rowW = Math.max(60, ...g.rows.map((r) => r.length * 7.2)) + 16;
  const colH = Math.max(40, ...g.columns.map((c) => c.length * 5.2)) + 12;
  const x0 = rowW;
  const y0 = 40 + colH;
  const width = Math.max(360, x0 + g.columns.length * CELL_W + 20);
  const height = y0 + g.rows.length * CELL_H + 60;
  const byKey = new Map(g.cells.map((c) => [`${c.row}\u0000${c.column}`, c]));
  const parts: string[] = [label(width / 2, 20, g.title, { 'text-anchor': 'middle', 'font-size': 15, 'font-weight': 'bold', class: 'chart-title' })];
  if (g.columnLabel) parts.push(label(x0, 36, g.columnLabel, { class: 'x-label', 'font-style': 'italic' }));
  if (g.rowLabel) parts.push(label(8, y0 - 8, g.rowLabel, { class: 'y-label', 'font-style': 'italic' }));
  g.columns.forEach((c, ci) => {
    const cx = x0 + ci * CELL_W + CELL_W / 2;
    parts.push(label(cx, y0 - 8, c, { 'text-anchor': 'start', transform: `rotate(-30 ${cx} ${y0 - 8})`, class: 'x-tick' }));
  });
  const cells: string[] = [];
  const counts = new Map<CellState, number>();
  g.rows.forEach((r, ri) => {
    const y = y0 + ri * CELL_H;
    parts.push(label(x0 - 8, y + CELL_H / 2 + 4, r, { 'text-anchor': 'end', class: 'y-tick' }));
    g.columns.forEach((c, ci) => {
      const x = x0 + ci * CELL_W;
      const cell = byKey.get(`${r}\u0000${c}`);
      if (cell) counts.set(cell.state, (counts.get(cell.state) ?? 0) + 1);
      const style = cell ? CELL_STYLE[cell.state] : { fill: '#ffffff', mark: '?' };
      const tip = cell ? `${r} × ${c}: ${cell.state}${cell.message ? ` — ${cell.message}` : ''}` : `${r} × ${c}: not run`;
      cells.push(el('g', { class: 'cell', 'data-row': r, 'data-column': c, 'data-state': cell?.state ?? 'missing' }, [
        el('title', {}, text(tip)),
        el('rect', { x: x + 1, y: y + 1, width: CELL_W - 2, height: CELL_H - 2, rx: 3, fill: style.fill, stroke: '#fff' }),
        label(x + CELL_W / 2, y + CELL_H / 2 + 4, style.mark, { 'text-anchor': 'middle', fill: cell ? '#fff' : '#333', 'font-weight': 'bold' }),
      ]));
    });
  });
  parts.push(el('g', { class: 'data' }, cells));
  const legendY = y0 + g.rows.length * CELL_H + 28;
  // The legend's items are 120 px apart.
  const items = (Object.keys(CELL_STYLE) as CellState[]).filter((s) => counts.has(s));
  parts.push(el('g', { class: 'legend' }, items.map((s, i) => el('g', { class: 'legend-item' }, [
    el('rect', { x: x0 + i * 120, y: legendY - 10, width: 12, height: 12, fill: CELL_STYLE[s].fill }),
    label(x0 + i * 120 + 16, legendY, `${s} (${counts.get(s)})`),
  ]))));
  return svgRoot(width, height, g.title, 'grid', parts);
}
