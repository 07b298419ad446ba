import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import { Iotlb, type IotlbOptions } from '../iommu/iotlb/iotlb.js';
import { workerExecArgv } from '../iommu/pool/handle.js';
import type { WireRing } from '../virtio/net/wire.js';
import { STATE_FAILED, STATE_IDLE, STATE_READY, VhostChannel, W_STATE, W_STOP } from './channel.js';
import type { VhostErrorMessage, VhostMemMessage, VhostWorkerInit } from './worker/loop.js';
import type { WorkerMemConfig } from './worker/xlate.js';

/** Wall-clock idle time after which a worker thread ends itself (it is restarted transparently at the next kick). */
export const VHOST_IDLE_EXIT_MS = 2000;
/** How long a worker may take to start. */
export const VHOST_START_TIMEOUT_MS = 10_000;

/**
 * One vhost worker thread and its shared state, from the machine's side:
 * the channel, the device IOTLB (owned by the worker, counters read here)
 * and the port for the memory table and error texts. Start-up blocks
 * (bounded) until the thread reports READY, so a device can start its
 * backend from a synchronous register write, as QEMU's vhost_dev_start does.
 */
export class VhostWorkerHandle {
  readonly channel = VhostChannel.create();
  readonly iotlb: Iotlb;
  private readonly worker: Worker;
  private readonly port: MessagePort;
  private alive = true;

  constructor(wireTx: WireRing, wireRx: WireRing, iotlbOpts: IotlbOptions) {
    this.iotlb = Iotlb.create(iotlbOpts);
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    const init: VhostWorkerInit = {
      channel: this.channel.sab, iotlb: this.iotlb.descriptor(), wireTx: wireTx.sab, wireRx: wireRx.sab, port: port2,
      idleExitMs: VHOST_IDLE_EXIT_MS,
    };
    this.worker = new Worker(new URL('./vhost.worker.js', import.meta.url), {
      workerData: init, transferList: [port2], execArgv: workerExecArgv(),
    });
    this.worker.unref();
    this.worker.on('error', () => undefined);
    this.worker.once('exit', () => {
      this.alive = false;
    });
    const ctl = this.channel.ctl;
    const deadline = performance.now() + VHOST_START_TIMEOUT_MS;
    while (Atomics.load(ctl, W_STATE) !== STATE_READY && performance.now() < deadline) {
      Atomics.wait(ctl, W_STATE, Atomics.load(ctl, W_STATE), 50);
      if (Atomics.load(ctl, W_STATE) === STATE_FAILED) break;
    }
    if (Atomics.load(ctl, W_STATE) !== STATE_READY) {
      this.terminate();
      throw new Error('vhost worker did not start');
    }
  }

  /** The thread ended itself after an idle period (not a failure). */
  get idled(): boolean {
    return Atomics.load(this.channel.ctl, W_STATE) === STATE_IDLE;
  }

  get failed(): boolean {
    return !this.alive || Atomics.load(this.channel.ctl, W_STATE) === STATE_FAILED;
  }

  /** VHOST_SET_MEM_TABLE (+ whether the IOTLB is in front): read by the worker at its next round. */
  setMem(mem: WorkerMemConfig): void {
    this.port.postMessage({ mem } satisfies VhostMemMessage);
  }

  /** Error texts the worker sent (vq errors, its own failure). */
  takeErrors(): VhostErrorMessage[] {
    const out: VhostErrorMessage[] = [];
    for (let m = receiveMessageOnPort(this.port); m; m = receiveMessageOnPort(this.port)) out.push(m.message as VhostErrorMessage);
    return out;
  }

  /** Ends the thread (stop request, then terminate: a hung worker does not look at STOP). */
  terminate(): void {
    Atomics.store(this.channel.ctl, W_STOP, 1);
    Atomics.notify(this.channel.ctl, 0);
    void this.worker.terminate();
    this.port.close();
    this.alive = false;
  }
}
