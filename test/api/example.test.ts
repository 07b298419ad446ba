import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import ts from 'typescript';
import t from 'tap';
import { repoPath } from '../helpers/paths.js';

// examples/api/boot-and-notify.ts imports from 'viommu', the package itself.
// This test treats it as a separate project would: the package's declarations
// are emitted as `npm run build` emits them (tsconfig.types.json into
// dist/types), the example is type-checked with 'viommu' resolved through
// package.json ("exports"/"types", no path mapping), then it is run.
const example = repoPath('examples', 'api', 'boot-and-notify.ts');

t.test('package.json points its types at the declarations the build emits', async (t) => {
  const pkg = JSON.parse(readFileSync(repoPath('package.json'), 'utf8')) as { types: string; exports: Record<string, Record<string, string>> };
  const cfg = JSON.parse(readFileSync(repoPath('tsconfig.types.json'), 'utf8')) as { compilerOptions: { outDir: string } };
  t.equal(pkg.types, `./${cfg.compilerOptions.outDir}/index.d.ts`);
  t.equal(pkg.exports['.']!['types'], pkg.types);
  t.equal(pkg.exports['.']!['default'], './dist/index.js');
});

t.test('the example type-checks against the emitted package types', async (t) => {
  const emit = spawnSync(process.execPath, [repoPath('node_modules', 'typescript', 'bin', 'tsc'), '-p', repoPath('tsconfig.types.json')], { encoding: 'utf8' });
  t.equal(emit.status, 0, `tsc -p tsconfig.types.json: ${emit.stdout}${emit.stderr}`);
  const options: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext,
    strict: true, types: ['node'], noEmit: true, skipLibCheck: true,
  };
  const program = ts.createProgram([example], options);
  const resolved = ts.resolveModuleName('viommu', example, options, ts.sys, undefined, undefined, ts.ModuleKind.ESNext);
  t.equal(resolved.resolvedModule?.resolvedFileName, repoPath('dist', 'types', 'index.d.ts'), "'viommu' resolves to the package's types");
  t.notOk(program.getSourceFiles().some((f) => f.fileName.startsWith(repoPath('src'))), 'no source file of src/ is involved');
  const diags = ts.getPreEmitDiagnostics(program).map((d) => `${d.file?.fileName ?? ''}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
  t.same(diags, [], 'no type errors');
});

t.test('the example runs: notifier events, a clean oracle, a faultless benchmark', async (t) => {
  const r = spawnSync(process.execPath, [repoPath('.build', 'examples', 'api', 'boot-and-notify.js')], { encoding: 'utf8', cwd: repoPath() });
  t.equal(r.status, 0, r.stderr);
  t.match(r.stdout, /^notifier on vtd-01\.0-dmar: [1-9]\d* MAP, [1-9]\d* UNMAP$/m);
  t.match(r.stdout, /^first MAP: iova 0x[0-9a-f]+ -> 0x[0-9a-f]+, mask 0xfff$/m);
  t.match(r.stdout, /DMA oracle: [1-9]\d* accesses checked .*, 0 violations/);
  t.match(r.stdout, /^intel-iommu at 0xfed90000: .*caching-mode on/m);
  t.match(r.stdout, /^iotlb bench: 100000 translations, \d+ hits, \d+ misses, 0 faults$/m);
});
