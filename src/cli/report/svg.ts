/**
 * A tiny SVG/HTML string builder: elements with escaped attributes and
 * escaped text, so that every chart is well-formed XML whatever the labels
 * contain (device names, refusal messages with quotes and angle brackets).
 */

/** Attribute values; undefined attributes are left out. */
export type Attrs = Readonly<Record<string, string | number | undefined>>;

const ENTITIES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text or an attribute value for XML and HTML. */
export function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ENTITIES[c]!);
}

/** Numbers are written with at most two decimals (coordinates). */
export function num(v: number): string {
  return String(Math.round(v * 100) / 100);
}

function attrText(attrs: Attrs): string {
  let s = '';
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined) continue;
    s += ` ${k}="${esc(typeof v === 'number' ? num(v) : v)}"`;
  }
  return s;
}

/**
 * An element: `children` are already-built markup (elements, or text made
 * with `text()`); an element with no children is self-closed.
 */
export function el(name: string, attrs: Attrs = {}, children: string | readonly string[] = []): string {
  const inner = typeof children === 'string' ? children : children.join('');
  return inner === '' ? `<${name}${attrText(attrs)}/>` : `<${name}${attrText(attrs)}>${inner}</${name}>`;
}

/** Escaped character data. */
export function text(s: string): string {
  return esc(s);
}

/** A <text> element. */
export function label(x: number, y: number, s: string, attrs: Attrs = {}): string {
  return el('text', { x, y, ...attrs }, text(s));
}

/** The root <svg> of a chart: sized, with a viewBox, a role and an accessible title. */
export function svgRoot(width: number, height: number, title: string, chartKind: string, children: readonly string[]): string {
  return el('svg', {
    xmlns: 'http://www.w3.org/2000/svg', width, height, viewBox: `0 0 ${width} ${height}`, role: 'img',
    'aria-label': title, 'data-chart': chartKind, 'font-family': 'sans-serif', 'font-size': 12,
  }, [el('title', {}, text(title)), ...children]);
}
