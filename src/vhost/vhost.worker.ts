import { workerData } from 'node:worker_threads';
import { runVhostWorker, type VhostWorkerInit } from './worker/loop.js';

/** Entry point of a vhost worker thread (spawned by worker-host.ts). */
runVhostWorker(workerData as VhostWorkerInit);
