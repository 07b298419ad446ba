#!/usr/bin/env node
// Build: esbuild bundles the two executables, the library entry and every
// worker entry point (src/**/*.worker.ts) into dist/, and tsc emits the
// entry's declarations into dist/types/. With --tests it also
// transpiles src/ and test/ file by file into .build/ for tap (Node 20 cannot
// strip types; type-checking is `npm run check`, tsc 5.9).
import { build } from 'esbuild';
import { readdirSync, statSync, rmSync, existsSync, chmodSync } from 'node:fs';
import { join, relative, basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';

const root = join(fileURLToPath(import.meta.url), '..', '..');
const walk = (dir, pred, out = []) => {
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, pred, out);
    else if (pred(p)) out.push(p);
  }
  return out;
};

const common = { platform: 'node', target: 'node20', format: 'esm', sourcemap: 'linked', logLevel: 'warning' };
const banner = { js: "#!/usr/bin/env node\nimport { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" };

// dist/types survives a test build (which does not emit it).
const distDir = join(root, 'dist');
for (const name of existsSync(distDir) ? readdirSync(distDir) : []) {
  if (!(process.argv.includes('--tests') && name === 'types')) rmSync(join(distDir, name), { recursive: true, force: true });
}
const workers = walk(join(root, 'src'), (p) => p.endsWith('.worker.ts'));
await build({
  ...common,
  bundle: true,
  banner,
  entryPoints: {
    'viommu': join(root, 'src/cli/viommu.ts'),
    'viommu-system': join(root, 'src/cli/viommu-system.ts'),
    'index': join(root, 'src/index.ts'),
    ...Object.fromEntries(workers.map((w) => [basename(w, '.ts'), w])),
  },
  outdir: join(root, 'dist'),
});
// The bins must stay executable after a rebuild (npx runs them directly).
for (const bin of ['viommu', 'viommu-system']) chmodSync(join(root, 'dist', `${bin}.js`), 0o755);

// The package's types (package.json "types"/"exports"): declarations of the
// library entry, emitted by tsc 5.9. Skipped for the test build (tsc takes
// longer than the rest of the build); test/api/example.test.ts emits them itself.
if (!process.argv.includes('--tests')) {
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  const r = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.types.json')], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

if (process.argv.includes('--tests')) {
  rmSync(join(root, '.build'), { recursive: true, force: true });
  const files = [
    ...walk(join(root, 'src'), (p) => p.endsWith('.ts')),
    ...walk(join(root, 'test'), (p) => p.endsWith('.ts')),
    ...walk(join(root, 'bench'), (p) => p.endsWith('.ts')),
    ...walk(join(root, 'examples'), (p) => p.endsWith('.ts')),
  ];
  await build({ ...common, bundle: false, entryPoints: files, outbase: root, outdir: join(root, '.build') });
  console.log(`transpiled ${files.length} files into ${relative(process.cwd(), join(root, '.build')) || '.build'}/`);
}
