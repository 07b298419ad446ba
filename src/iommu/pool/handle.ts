import type { Worker } from 'node:worker_threads';
import type { Iotlb } from '../iotlb/iotlb.js';
import type { Ring } from './ring.js';

/** One batch piece: iovas[first..first+count) of a registered buffer, translated into the same indexes of another. */
export interface Piece {
  readonly ctx: number;
  readonly access: number;
  readonly inBuf: number;
  readonly outBuf: number;
  readonly first: number;
  readonly count: number;
  tries: number;
  deadline: number;
  readonly done: (faults: number) => void;
  readonly fail: (err: Error) => void;
}

/** The pool's view of one worker thread. */
export interface Handle {
  readonly index: number;
  readonly worker: Worker;
  readonly ring: Ring;
  readonly post: (m: unknown) => void;
  readonly busSlot: number;
  readonly iotlb: Iotlb;
  posted: number;
  completed: number;
  readonly inflight: Piece[];
  ready: boolean;
  alive: boolean;
  fenced: boolean;
  waiting: boolean;
}

/**
 * The parent's Node options minus module hooks (--import, --loader,
 * --require): workers run plain JavaScript, and a test runner's TypeScript
 * hook would only slow their start-up.
 */
export function workerExecArgv(): string[] {
  const hook = /^--(import|loader|experimental-loader|require)\b|^-r$/;
  const out: string[] = [];
  for (let i = 0; i < process.execArgv.length; i++) {
    const a = process.execArgv[i]!;
    if (!hook.test(a)) out.push(a);
    else if (!a.includes('=')) i++; // the module is the next argument
  }
  return out;
}

