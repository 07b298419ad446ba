/**
 * A small XML well-formedness checker for the tests (no dependencies):
 * tags nest and close, attributes are quoted and not repeated, '<' and '&'
 * appear only as markup or entity references. Returns the problems found
 * (empty when well-formed) and the elements, for counting.
 */
export interface XmlElement {
  readonly name: string;
  readonly attrs: Readonly<Record<string, string>>;
  /** Text directly inside the element (entities decoded). */
  text: string;
  readonly parent: XmlElement | undefined;
  readonly children: XmlElement[];
}

const ENT: Readonly<Record<string, string>> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function decode(s: string, problems: string[]): string {
  return s.replace(/&([^;\s]*);?/g, (m, name: string) => {
    if (!m.endsWith(';')) problems.push(`bare '&' near '${m}'`);
    if (name.startsWith('#')) return String.fromCodePoint(name[1] === 'x' ? parseInt(name.slice(2), 16) : Number(name.slice(1)));
    const v = ENT[name];
    if (v === undefined) problems.push(`unknown entity &${name};`);
    return v ?? '';
  });
}

export function checkXml(src: string): { problems: string[]; root: XmlElement | undefined; all: XmlElement[] } {
  const problems: string[] = [];
  const all: XmlElement[] = [];
  let root: XmlElement | undefined;
  let cur: XmlElement | undefined;
  const re = /<(\/?)([A-Za-z][\w:.-]*)((?:\s+[^\s=/>]+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*(\/?)>|<!--[\s\S]*?-->|<!DOCTYPE[^>]*>|<\?[\s\S]*?\?>|([^<]+)|(<)/g;
  for (let m = re.exec(src); m !== null; m = re.exec(src)) {
    if (m[6] !== undefined) {
      problems.push(`stray '<' at ${m.index}: ${src.slice(m.index, m.index + 30)}`);
      continue;
    }
    if (m[5] !== undefined) {
      const t = decode(m[5], problems);
      if (cur) cur.text += t;
      else if (t.trim()) problems.push(`text outside the root: ${t.slice(0, 30)}`);
      continue;
    }
    if (m[2] === undefined) continue;
    const [, close, name, attrText = '', selfClose] = m;
    if (close) {
      if (!cur || cur.name !== name) problems.push(`</${name}> closes <${cur?.name ?? 'nothing'}>`);
      else cur = cur.parent;
      continue;
    }
    const attrs: Record<string, string> = {};
    for (const a of attrText.matchAll(/([^\s=/>]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g)) {
      if (a[1]! in attrs) problems.push(`<${name}> repeats attribute ${a[1]}`);
      const v = a[2] ?? a[3] ?? '';
      if (v.includes('<')) problems.push(`'<' in attribute ${a[1]} of <${name}>`);
      attrs[a[1]!] = decode(v, problems);
    }
    const e: XmlElement = { name: name!, attrs, text: '', parent: cur, children: [] };
    all.push(e);
    if (cur) cur.children.push(e);
    else if (root) problems.push(`second root <${name}>`);
    else root = e;
    if (!selfClose) cur = e;
  }
  if (cur) problems.push(`<${cur.name}> is not closed`);
  return { problems, root, all };
}

/** Elements named `name` (optionally with an attribute value) under the parsed document. */
export function find(all: readonly XmlElement[], name: string, attr?: string, value?: string): XmlElement[] {
  return all.filter((e) => e.name === name && (attr === undefined || (value === undefined ? attr in e.attrs : e.attrs[attr] === value)));
}

/** All text under an element. */
export function textOf(e: XmlElement): string {
  return e.text + e.children.map(textOf).join('');
}
