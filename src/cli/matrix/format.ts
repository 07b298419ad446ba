import type { MatrixCell, MatrixResult } from './types.js';

/** A short text for a works cell's notifier flags. */
function flagsShort(f: string | undefined): string {
  if (!f || f.startsWith('none')) return '-';
  return f;
}

function brokenShort(c: MatrixCell): string {
  const b = c.broken!;
  const parts = [b.oracleViolations ? `o${b.oracleViolations}` : '', b.wrongData ? `w${b.wrongData}` : '', b.hang ? 'hang' : ''].filter(Boolean);
  return `BROKEN ${parts.join(' ')}`;
}

/** Refusal messages numbered in order of first appearance, so a grid cell can point at one. */
function refusalIndex(cells: readonly MatrixCell[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const c of cells) if (c.status === 'refused' && c.message !== undefined && !m.has(c.message)) m.set(c.message, m.size + 1);
  return m;
}

function cellText(c: MatrixCell | undefined, refusals: Map<string, number>): string {
  if (!c) return '';
  if (c.status === 'works') return `ok ${flagsShort(c.notifierFlags)}`;
  if (c.status === 'refused') return `refused [${refusals.get(c.message ?? '')}]`;
  return brokenShort(c);
}

interface Grid {
  readonly title: string;
  readonly header: string[];
  readonly rows: string[][];
}

/** One grid per mode: rows vIOMMU x consumer x ATS, columns the scenarios. */
function grids(r: MatrixResult, refusals: Map<string, number>): Grid[] {
  const out: Grid[] = [];
  const byKey = new Map(r.cells.map((c) => [c.key, c]));
  for (const mode of r.axes.modes) {
    const mine = r.cells.filter((c) => c.mode === mode);
    if (mine.length === 0) continue;
    const rows: string[][] = [];
    for (const v of r.axes.viommus) {
      for (const consumer of r.axes.consumers) {
        for (const ats of r.axes.ats) {
          const row = r.axes.scenarios.map((s) => byKey.get(`${v}|${consumer}|ats=${ats ? 'on' : 'off'}|${s}|${mode}`));
          if (row.every((c) => !c)) continue;
          rows.push([v, consumer, ats ? 'on' : 'off', ...row.map((c) => cellText(c, refusals))]);
        }
      }
    }
    const t = r.byMode[mode]!;
    out.push({
      title: `mode ${mode}: ${t.cells} cells, ${t.works} works, ${t.refused} refused, ${t.broken} broken`,
      header: ['vIOMMU', 'consumer', 'ATS', ...r.axes.scenarios],
      rows,
    });
  }
  return out;
}

function footer(r: MatrixResult, refusals: Map<string, number>): string[] {
  const lines = [...refusals].map(([msg, n]) => `[${n}] ${msg}`);
  const broken = r.cells.filter((c) => c.status === 'broken');
  if (broken.length) {
    lines.push('', 'broken cells (o: oracle violations, w: wrong data or failed steps, hang: virtual-time bound exceeded):');
    for (const c of broken) lines.push(`  ${c.key}: ${c.broken!.details[0] ?? ''}`);
  }
  const t = r.totals;
  lines.push('', `${t.cells} cells${r.shard ? ` (shard ${r.shard.index}/${r.shard.count})` : ''}: ${t.works} works, ${t.refused} refused, ${t.broken} broken`);
  return lines;
}

/** The terminal table: one grid per mode, refusal footnotes, the broken cells, the counts. */
export function formatTable(r: MatrixResult): string {
  const refusals = refusalIndex(r.cells);
  const out: string[] = [];
  for (const g of grids(r, refusals)) {
    const all = [g.header, ...g.rows];
    const w = g.header.map((_, i) => Math.max(...all.map((row) => row[i]!.length)));
    out.push(g.title);
    for (const row of all) out.push(row.map((s, i) => s.padEnd(w[i]!)).join('  ').trimEnd());
    out.push('');
  }
  out.push('cells: "ok FLAGS" works with the notifier flags the consumer registered (- for none: it translates per access), "refused [n]" with message n, "BROKEN" with what broke.');
  return [...out, ...footer(r, refusals)].join('\n') + '\n';
}

function mdEscape(s: string): string {
  return s.replace(/\|/g, '\\|');
}

/** The same as Markdown tables. */
export function formatMarkdown(r: MatrixResult): string {
  const refusals = refusalIndex(r.cells);
  const out: string[] = ['# viommu matrix', ''];
  for (const g of grids(r, refusals)) {
    out.push(`## ${g.title}`, '');
    out.push(`| ${g.header.map(mdEscape).join(' | ')} |`, `|${g.header.map(() => '---').join('|')}|`);
    for (const row of g.rows) out.push(`| ${row.map(mdEscape).join(' | ')} |`);
    out.push('');
  }
  const f = footer(r, refusals).map((l) => (l.startsWith('[') ? `- ${mdEscape(l)}` : mdEscape(l)));
  return [...out, ...f].join('\n') + '\n';
}
