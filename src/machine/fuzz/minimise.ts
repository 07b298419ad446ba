import type { FuzzInput } from './types.js';

/** Most reruns a minimisation may spend (each is a whole machine run). */
export const MINIMISE_BUDGET = 200;

/**
 * Delta debugging over an input's ops (Zeller's ddmin, complement steps
 * only): removes ever smaller chunks while the input still fails the same
 * way, within MINIMISE_BUDGET reruns. The result fails as the original did.
 */
export async function minimise(input: FuzzInput, fails: (i: FuzzInput) => Promise<boolean>): Promise<FuzzInput> {
  let ops = [...input.ops];
  let budget = MINIMISE_BUDGET;
  let chunk = Math.max(1, Math.floor(ops.length / 2));
  while (ops.length > 0 && budget > 0) {
    let removed = false;
    for (let start = 0; start < ops.length && budget > 0;) {
      const candidate = [...ops.slice(0, start), ...ops.slice(start + chunk)];
      budget--;
      if (await fails({ variant: input.variant, ops: candidate })) {
        ops = candidate;
        removed = true;
      } else {
        start += chunk;
      }
    }
    if (!removed) {
      if (chunk === 1) break;
      chunk = Math.max(1, Math.floor(chunk / 2));
    }
  }
  return { variant: input.variant, ops };
}
