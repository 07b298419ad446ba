import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The repository root. Tests run from .build/test/... (esbuild output), so
 * the root is found by walking up from this file to the folder holding
 * package.json's neighbours.
 */
const here = dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = join(here, here.includes(`${join('.build', 'test')}`) ? '../../..' : '../..');

export function repoPath(...parts: string[]): string {
  return join(REPO_ROOT, ...parts);
}
