// Pieces every bench/*.mjs script shares: its flags, running a program that
// prints one JSON line, medians, and building the native anchors.
import { execFileSync, spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
/** bench/anchors (qemu_like, native_flat) and the built CLI. */
export const ANCHORS_DIR = join(here, 'anchors');
export const VIOMMU_JS = join(here, '..', 'dist', 'viommu.js');

/** `--NAME N` from the command line as a number, or dflt. */
export function numberFlag(name, dflt, args = process.argv.slice(2)) {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
}

/** `--NAME TEXT` from the command line, or dflt. */
export function stringFlag(name, dflt, args = process.argv.slice(2)) {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
}

/** Runs a program and parses the last line it prints as JSON. */
export function runJson(cmd, argv) {
  const out = execFileSync(cmd, argv, { encoding: 'utf8', maxBuffer: 1 << 20 });
  return JSON.parse(out.trim().split('\n').pop());
}

export function median(xs) {
  return [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
}

const have = (cmd, argv) => spawnSync(cmd, argv, { stdio: 'ignore' }).status === 0;

/** Builds the native anchors with make when cc and GLib are present; false (with a note) when they are not. */
export function buildAnchors() {
  if (!have('cc', ['--version']) || !have('pkg-config', ['--exists', 'glib-2.0'])) {
    console.error('note: cc or GLib (libglib2.0-dev) missing: the native anchors are skipped');
    return false;
  }
  execFileSync('make', ['-s', '-C', ANCHORS_DIR], { stdio: 'inherit' });
  return true;
}

/**
 * Runs every program of every scenario once per round, in alternation, and
 * keeps translations/s per `scenario|program` (with the checksum, hits and
 * misses of the first run; a checksum that changes between rounds is an error).
 */
export function runRounds(rounds, scenarios, programsOf) {
  const samples = new Map();
  for (let r = 0; r < rounds; r++) {
    for (const s of scenarios) {
      for (const p of programsOf(s)) {
        const res = runJson(p.cmd, p.argv);
        const k = `${s.name}|${p.key}`;
        if (!samples.has(k)) samples.set(k, { tps: [], checksum: res.checksum, hits: res.hits, misses: res.misses });
        const e = samples.get(k);
        e.tps.push(res.translations_per_s);
        if (e.checksum !== res.checksum) throw new Error(`${k}: checksum changed between rounds`);
      }
    }
    process.stderr.write(`round ${r + 1}/${rounds} done\n`);
  }
  return samples;
}
