import { el, esc, text } from './svg.js';

/** One part of a report: a heading, optional prose, and markup (an inline <svg> chart, a table). */
export interface ReportSection {
  readonly heading: string;
  readonly body: string;
  readonly note?: string;
}

const STYLE = `
body { font-family: sans-serif; margin: 24px auto; max-width: 1100px; color: #222; }
h1 { font-size: 22px; } h2 { font-size: 17px; margin-top: 28px; }
.meta { color: #555; font-size: 13px; }
section svg { display: block; margin: 8px 0; max-width: 100%; height: auto; }
table { border-collapse: collapse; font-size: 13px; }
th, td { border: 1px solid #ccc; padding: 3px 8px; text-align: right; }
th { background: #f2f2f2; text-align: left; } td.text { text-align: left; }
section > p { font-size: 14px; }
.cell:hover rect { stroke: #000; stroke-width: 2; }
.wide { overflow-x: auto; } .wide svg { max-width: none; }
`;

/** A table: header cells, then rows of cells (numbers right-aligned, text left-aligned). */
export function htmlTable(headers: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  const cell = (v: string | number) => el('td', typeof v === 'number' ? {} : { class: 'text' }, text(String(v)));
  return el('table', {}, [
    el('thead', {}, el('tr', {}, headers.map((h) => el('th', {}, text(h))))),
    el('tbody', {}, rows.map((r) => el('tr', {}, r.map(cell)))),
  ]);
}

/**
 * One self-contained HTML file: inline CSS, the charts as inline SVG, no
 * script and no external resource, so it opens anywhere and can be mailed
 * or attached to a bug.
 */
export function htmlPage(title: string, meta: readonly string[], sections: readonly ReportSection[]): string {
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    `<head><meta charset="utf-8"><title>${esc(title)}</title><style>${STYLE}</style></head>`,
    '<body>',
    el('h1', {}, text(title)),
    ...meta.map((m) => el('p', { class: 'meta' }, text(m))),
    ...sections.map((s) => el('section', {}, [el('h2', {}, text(s.heading)), s.note ? el('p', {}, text(s.note)) : '', s.body])),
    '</body>',
    '</html>',
    '',
  ].join('\n');
}
