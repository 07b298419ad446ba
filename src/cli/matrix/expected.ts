import type { CellStatus, MatrixCell, MatrixResult } from './types.js';

/** What the expected file says about one cell: the status, and the flags (works), the message (refused) or what broke. */
export interface ExpectedCell {
  readonly status: CellStatus;
  readonly flags?: string;
  readonly message?: string;
  readonly broken?: readonly ('oracle' | 'wrong-data' | 'hang')[];
}

export interface ExpectedMatrix {
  readonly version: 1;
  readonly note?: string;
  readonly cells: Readonly<Record<string, ExpectedCell>>;
}

export function expectationOf(c: MatrixCell): ExpectedCell {
  if (c.status === 'works') return { status: 'works', flags: c.notifierFlags ?? 'none' };
  if (c.status === 'refused') return { status: 'refused', message: c.message ?? '' };
  const b = c.broken!;
  const kinds: ('oracle' | 'wrong-data' | 'hang')[] = [];
  if (b.oracleViolations) kinds.push('oracle');
  if (b.wrongData) kinds.push('wrong-data');
  if (b.hang) kinds.push('hang');
  return { status: 'broken', broken: kinds };
}

/** The expected file for a (full) run. */
export function expectedFrom(r: MatrixResult): ExpectedMatrix {
  return {
    version: 1,
    note: 'viommu matrix: which cells must work (with which notifier flags), be refused (with which message) or be broken (and how). Regenerate with `viommu matrix --write-expected FILE` after a reviewed change.',
    cells: Object.fromEntries(r.cells.map((c) => [c.key, expectationOf(c)])),
  };
}

/** The expected file's text: one cell per line, so a review sees exactly which cells changed. */
export function formatExpected(e: ExpectedMatrix): string {
  const cells = Object.entries(e.cells).map(([k, v]) => `  ${JSON.stringify(k)}: ${JSON.stringify(v)}`);
  return `{\n "version": 1,\n "note": ${JSON.stringify(e.note ?? '')},\n "cells": {\n${cells.join(',\n')}\n }\n}\n`;
}

function show(e: ExpectedCell): string {
  if (e.status === 'works') return `works (${e.flags})`;
  if (e.status === 'refused') return `refused: ${e.message}`;
  return `broken (${(e.broken ?? []).join(', ')})`;
}

/**
 * The differences between a run and the expected matrix, one line each.
 * Only the cells the run covered are compared (a shard or a filtered run
 * checks its slice); with `complete`, expected cells the run lacks count too.
 */
export function compareExpected(r: MatrixResult, exp: ExpectedMatrix, complete: boolean): string[] {
  const diffs: string[] = [];
  const seen = new Set<string>();
  for (const c of r.cells) {
    seen.add(c.key);
    const want = exp.cells[c.key];
    const got = expectationOf(c);
    if (!want) {
      diffs.push(`${c.key}: not in the expected matrix; got ${show(got)}`);
      continue;
    }
    if (JSON.stringify(want) !== JSON.stringify(got)) diffs.push(`${c.key}: expected ${show(want)}, got ${show(got)}${c.broken ? ` (${c.broken.details[0] ?? ''})` : ''}`);
  }
  if (complete) for (const k of Object.keys(exp.cells)) if (!seen.has(k)) diffs.push(`${k}: expected ${show(exp.cells[k]!)}, but the run has no such cell`);
  return diffs;
}

export function parseExpected(text: string, file: string): ExpectedMatrix {
  const v = JSON.parse(text) as ExpectedMatrix;
  if (v.version !== 1 || typeof v.cells !== 'object' || v.cells === null) throw new Error(`${file}: not a viommu matrix expected file (version 1 with "cells")`);
  return v;
}
