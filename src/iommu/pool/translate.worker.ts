import { workerData } from 'node:worker_threads';
import { runWorker, type WorkerInit } from './worker-loop.js';

/** Entry point of a translation worker (spawned by pool.ts). */
runWorker(workerData as WorkerInit);
