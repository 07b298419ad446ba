import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser'];
const INSTALL_LOCK = join(tmpdir(), 'viommu-chromium-install.lock');

/**
 * Debian's headless Chromium for the report tests: $VIOMMU_CHROMIUM, or
 * /usr/bin/chromium; when absent and running as root on a Debian-like
 * system, installed once with apt-get (under a file lock, so parallel test
 * files wait for one install; `apt-get update` only if the first try
 * fails). Returns the path, or why the tests must be skipped: not root, no
 * apt-get, no network, or VIOMMU_NO_CHROMIUM_INSTALL=1.
 */
export function findChromium(): { path: string } | { skip: string } {
  const env = process.env['VIOMMU_CHROMIUM'];
  if (env) return existsSync(env) ? { path: env } : { skip: `VIOMMU_CHROMIUM=${env} does not exist` };
  const found = () => CANDIDATES.find((p) => existsSync(p));
  const have = found();
  if (have) return { path: have };
  if (process.env['VIOMMU_NO_CHROMIUM_INSTALL']) return { skip: 'chromium is not installed and VIOMMU_NO_CHROMIUM_INSTALL is set (apt-get install chromium to run these tests)' };
  if (process.getuid?.() !== 0) return { skip: 'chromium is not installed and the tests are not root, so they cannot apt-get install it (apt-get install chromium to run them)' };
  if (!existsSync('/usr/bin/apt-get') || !existsSync('/usr/bin/flock')) return { skip: 'chromium is not installed and this system has no apt-get/flock to install it' };
  const script = 'test -x /usr/bin/chromium && exit 0; export DEBIAN_FRONTEND=noninteractive; ' +
    'apt-get install -y -q chromium >/dev/null 2>&1 || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q chromium; }';
  const r = spawnSync('/usr/bin/flock', [INSTALL_LOCK, 'sh', '-c', script], { encoding: 'utf8', timeout: 480_000 });
  const now = found();
  if (now) return { path: now };
  const why = r.error ? r.error.message : `exit ${r.status}: ${(r.stderr || r.stdout).trim().split('\n').slice(-3).join(' / ')}`;
  return { skip: `chromium is not installed and apt-get install chromium failed (${why}); no network?` };
}

/** What headless Chromium made of a page: its serialized DOM and a screenshot (PNG bytes). */
export interface Rendered {
  readonly dom: string;
  readonly png: Buffer;
}

/** Renders a local HTML file in headless Chromium (--dump-dom, then --screenshot at width x height). */
export function render(chromium: string, htmlFile: string, width = 1200, height = 2000): Rendered {
  const dir = mkdtempSync(join(tmpdir(), 'viommu-chromium-'));
  const common = ['--headless', '--no-sandbox', '--disable-gpu', '--hide-scrollbars', '--no-first-run', `--user-data-dir=${join(dir, 'profile')}`];
  const url = `file://${htmlFile}`;
  const opts = { encoding: 'utf8' as const, timeout: 120_000, maxBuffer: 64 << 20, env: { ...process.env, HOME: dir } };
  const d = spawnSync(chromium, [...common, '--dump-dom', url], opts);
  if (d.status !== 0 || !d.stdout) throw new Error(`chromium --dump-dom failed: ${d.error?.message ?? d.stderr}`);
  const shot = join(dir, 'shot.png');
  const s = spawnSync(chromium, [...common, `--window-size=${width},${height}`, `--screenshot=${shot}`, url], opts);
  if (!existsSync(shot)) throw new Error(`chromium --screenshot failed: ${s.error?.message ?? s.stderr}`);
  return { dom: d.stdout, png: readFileSync(shot) };
}
