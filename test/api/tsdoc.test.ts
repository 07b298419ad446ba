import ts from 'typescript';
import t from 'tap';
import { repoPath } from '../helpers/paths.js';

// Every export of the package entry (src/index.ts, what `import ... from
// 'viommu'` sees) must carry a TSDoc comment: on its declaration, or, for a
// room exported whole (`export * as memory from ...`), on that export.
const entry = repoPath('src', 'index.ts');
const program = ts.createProgram([entry], {
  target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext,
  strict: true, types: ['node'], skipLibCheck: true, noEmit: true,
});
const checker = program.getTypeChecker();
const source = program.getSourceFile(entry)!;

/** The /** ... *\/ comment right before a node, if any. */
function leadingTsdoc(node: ts.Node): string | undefined {
  const text = node.getSourceFile().getFullText();
  const ranges = ts.getLeadingCommentRanges(text, node.getFullStart()) ?? [];
  const last = ranges[ranges.length - 1];
  const c = last ? text.slice(last.pos, last.end) : '';
  return c.startsWith('/**') && c.length > 6 ? c : undefined;
}

function documented(sym: ts.Symbol, checker: ts.TypeChecker): boolean {
  for (const d of sym.declarations ?? []) {
    // `export * as NAME from` : the comment sits on the export declaration.
    if (ts.isNamespaceExport(d)) return leadingTsdoc(d.parent) !== undefined;
  }
  const target = sym.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(sym) : sym;
  if (target.getDocumentationComment(checker).length > 0) return true;
  // A declaration whose TSDoc holds only tags (@param ...) still counts.
  return (target.declarations ?? []).some((d) => ts.getJSDocCommentsAndTags(d).length > 0);
}

t.test('every export of the package entry has a TSDoc comment', async (t) => {
  const exports = checker.getExportsOfModule(checker.getSymbolAtLocation(source)!);
  t.ok(exports.length > 40, `the entry exports the API (${exports.length} names)`);
  const missing = exports.filter((s) => !documented(s, checker)).map((s) => s.name);
  t.same(missing, [], 'exports without TSDoc');
});

t.test('the entry has no bare `export *` (each room is a documented namespace)', async (t) => {
  const bare = source.statements.filter((s) => ts.isExportDeclaration(s) && !s.exportClause).map((s) => s.getText());
  t.same(bare, []);
});

t.test('the check itself finds an undocumented export', async (t) => {
  // Documented and bare exports, direct and re-exported: the same rule must flag exactly the bare ones.
  const host = ts.createCompilerHost({});
  const files: Record<string, string> = {
    '/m.ts': "/** documented */\nexport const a = 1;\nexport const b = 2;\nexport { c, d } from './n';\n/** a room */\nexport * as ns from './n';\nexport * as bare from './n';\n",
    '/n.ts': '/** documented */\nexport const c = 3;\nexport const d = 4;\n',
  };
  const orig = host.getSourceFile;
  host.getSourceFile = (name, lang) => (files[name] !== undefined ? ts.createSourceFile(name, files[name]!, lang) : orig.call(host, name, lang));
  host.fileExists = (name) => files[name] !== undefined;
  host.getCurrentDirectory = () => '/';
  host.readFile = (name) => files[name];
  const p = ts.createProgram(['/m.ts'], { noLib: true, noEmit: true }, host);
  const c = p.getTypeChecker();
  const syms = c.getExportsOfModule(c.getSymbolAtLocation(p.getSourceFile('/m.ts')!)!);
  t.same(syms.filter((s) => !documented(s, c)).map((s) => s.name).sort(), ['b', 'bare', 'd']);
});
