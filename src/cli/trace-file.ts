import { writeFileSync } from 'node:fs';
import { ChromeTrace } from '../base/chrome-trace.js';
import type { FlagSpec } from './args.js';
import { UsageError } from './usage-error.js';

/** The `--trace FILE.json` flag of boot, hotplug (and bench iotlb, which parses its own flags). */
export const TRACE_FLAG: FlagSpec = {
  type: 'string', arg: 'FILE.json',
  help: 'write a Chrome trace-event file of the run on the virtual-time axis (open in ui.perfetto.dev or chrome://tracing)',
};

/** A trace for `--trace FILE`, or undefined without the flag. */
export function traceFor(file: string | undefined): ChromeTrace | undefined {
  return file === undefined ? undefined : new ChromeTrace();
}

/** Writes the trace as {"traceEvents": [...]}; a warning on stderr when events were dropped. */
export function writeTraceFile(file: string, trace: ChromeTrace, warn: (msg: string) => void): void {
  try {
    writeFileSync(file, JSON.stringify(trace.toJSON()));
  } catch (e) {
    throw new UsageError(`--trace: cannot write ${file}: ${(e as Error).message}`);
  }
  if (trace.dropped > 0) warn(`--trace: kept the first ${trace.events.length} events, dropped ${trace.dropped}`);
}
