import type { AsyncBackend, SettlePoint } from '../base/settle-point.js';
import type { IotlbOptions } from '../iommu/iotlb/iotlb.js';
import { notifierFlagsName } from '../iommu/notifier.js';
import { VIRTIO_F_ACCESS_PLATFORM } from '../virtio/regs.js';
import type { NetBackend, VirtioNet } from '../virtio/net/virtio-net.js';
import type { VirtioPciProxy } from '../virtio/pci/virtio-pci.js';
import { WireRing } from '../virtio/net/wire.js';
import {
  CRASH_HANG, CRASH_THROW, W_CRASH, W_CRASH_AFTER, MAX_VQS, VQ_AVAIL, VQ_DESC, VQ_ERROR, VQ_LAST_AVAIL, VQ_NUM, VQ_PENDING_MISS, VQ_USED, VQ_USED_IDX,
} from './channel.js';
import { VhostIommuFollower } from './iommu-follower.js';
import { vhostDeviceIotlbMiss } from './iotlb-miss.js';
import { VhostMemTable } from './mem-table.js';
import { iotlbMsg, VHOST_IOTLB_BATCH_BEGIN, VHOST_IOTLB_BATCH_END, VHOST_IOTLB_INVALIDATE, type VhostIotlbMsg } from './msg.js';
import { VhostRounds, type VhostDmaAccess } from './rounds.js';
import { VhostWorkerHandle } from './worker-host.js';

export interface VhostNetOptions {
  /** x-vhost-iotlb-fallback (default on): retry with UNMAP when the vIOMMU vetoes DEVIOTLB_UNMAP. Off: a veto fails the device. */
  readonly fallback: boolean;
  /** Geometry of the worker's device IOTLB. */
  readonly iotlb?: IotlbOptions;
  /** Each kick waits for its rounds (x-vhost-sync-kick): no overlap with the guest or other workers; for comparison. */
  readonly syncKicks?: boolean;
  /** How long the machine waits for one worker round before it declares the worker hung (ms). */
  readonly roundTimeoutMs?: number;
}

/** Counters of one vhost-net backend (the device IOTLB's are read from the shared arrays). */
export interface VhostNetStats {
  readonly txPackets: number;
  readonly rxPackets: number;
  readonly misses: number;
  readonly updates: number;
  readonly invalidates: number;
  readonly accessFails: number;
  readonly iotlbHits: number;
  readonly iotlbMisses: number;
  readonly workerRestarts: number;
}

/**
 * The vhost-net backend of a virtio-net device (QEMU hw/net/vhost_net.c +
 * hw/virtio/vhost.c on the machine side, Linux drivers/vhost/net.c on the
 * worker): at DRIVER_OK it hands the rings to a vhost worker thread, sends
 * the memory table, follows the device's IOMMU sections with the
 * registration policy of seed 002 (VhostIommuFollower), pre-faults every
 * used ring (vhost_dev_start), and then answers the worker's MISS messages
 * with UPDATEs and forwards the vIOMMU's invalidations as INVALIDATE. On
 * reset, DRIVER_OK cleared or BME off it takes the indices back
 * (vhost_virtqueue_stop) and stops following the IOMMU; on unplug the
 * thread ends. A worker that dies or hangs is reported, replaced, and the
 * replacement resumes from the indices in the shared vring table.
 *
 * Kicks are asynchronous: a kick posts a round to the worker and returns
 * (the ioeventfd wakes the vhost thread, the vCPU goes on), so the workers
 * of several devices run at once. The machine's SettlePoint completes the
 * rounds when the guest next looks (step). Anything that must see the
 * device quiet first completes this device's rounds (quiesce), as the
 * kernel's vq mutex serialises them with the worker: a message to the
 * worker (an INVALIDATE from a vIOMMU's invalidation, so an unmap waits for
 * the round that may use the translation), stop, a notifier toggle, a
 * second kick, and reading the counters.
 */
export class VhostNet implements NetBackend, AsyncBackend {
  readonly wireTx = WireRing.create();
  readonly wireRx = WireRing.create();
  /** Every DMA the worker made (the oracle's feed; installed by the machine's DMA tap). */
  observer: ((a: VhostDmaAccess) => void) | undefined;
  /** The device failed (a vetoed registration with fallback off): the message, as QEMU's error_fatal would print it. */
  failure: string | undefined;
  /** Worker errors (vq errors, deaths, hangs), oldest first. */
  readonly errors: string[] = [];
  workerRestarts = 0;
  private followerInst: VhostIommuFollower | undefined;
  private worker: VhostWorkerHandle | undefined;
  private rounds: VhostRounds | undefined;
  private mem: VhostMemTable | undefined;
  private running = false;
  private useIotlb = false;
  /** The series in flight is the retry after an idle-ended worker was replaced: a second failure waits for the next kick. */
  private recovering = false;

  constructor(private readonly proxy: VirtioPciProxy, private readonly vdev: VirtioNet, readonly opts: VhostNetOptions) {}

  /** vhost's IOMMU listener and notifiers (made once the function is on a bus). */
  get follower(): VhostIommuFollower {
    const proxy = this.proxy;
    const vdev = this.vdev;
    this.followerInst ??= new VhostIommuFollower(proxy.ctx.mem, {
      log: proxy.ctx.log,
      who: `vhost ${proxy.bdfString} ${proxy.typeName}${proxy.id !== undefined ? ` (${proxy.id})` : ''}`,
      deviceIotlbEnabled: () => vdev.deviceIotlbEnabled,
      fallback: this.opts.fallback,
      invalidate: (iova, size) => this.invalidate(iova, size),
      fail: (message) => this.fail(message),
    });
    return this.followerInst;
  }

  get started(): boolean {
    return this.running;
  }

  /** Wall-clock ms the machine thread spent blocked on this device's workers (bench figure; not deterministic, so not in stats). */
  get workerWaitMs(): number {
    return this.rounds?.waitMs ?? 0;
  }

  /** A round was posted to the worker and the machine has not completed it yet (no sync). */
  get roundInFlight(): boolean {
    return this.rounds?.inFlight ?? false;
  }

  /** The notifier flags in use now, one entry per IOMMU section ("DEVIOTLB_UNMAP", "UNMAP"), and each fallback reason. */
  get notifiers(): { region: string; flags: string; fallback: string | undefined }[] {
    return (this.followerInst?.entries ?? []).map((e) => ({ region: e.mr.name, flags: notifierFlagsName(e.n.notifierFlags), fallback: e.fallback }));
  }

  get stats(): VhostNetStats {
    this.quiesce();
    const r = this.rounds;
    const w = this.worker;
    return {
      txPackets: r?.totals.tx ?? 0, rxPackets: r?.totals.rx ?? 0, misses: r?.totals.misses ?? 0, updates: r?.totals.updates ?? 0,
      invalidates: r?.totals.invalidates ?? 0, accessFails: r?.totals.accessFails ?? 0,
      iotlbHits: (r?.retired.hits ?? 0) + (w?.iotlb.hits ?? 0), iotlbMisses: (r?.retired.misses ?? 0) + (w?.iotlb.misses ?? 0),
      workerRestarts: this.workerRestarts,
    };
  }

  private get log() {
    return this.proxy.ctx.log;
  }
  private get who(): string {
    return `vhost ${this.proxy.bdfString}`;
  }

  /** vhost_net_start (DRIVER_OK). */
  start(): void {
    if (this.running || this.failure) return;
    this.useIotlb = this.vdev.hasGuestFeature(VIRTIO_F_ACCESS_PLATFORM);
    const w = this.ensureWorker();
    if (!w) return;
    this.mem = VhostMemTable.fromAddressSpace(this.proxy.ctx.systemMemory, this.proxy.ctx.mem.ramBlocks);
    w.setMem({ regions: this.mem.regions, mappings: this.mem.mappings, useIotlb: this.useIotlb });
    this.programVrings(w, false);
    this.running = true;
    if (this.useIotlb) {
      this.follower.start(this.proxy.busMaster.as);
      if (this.failure) return;
      this.prefault();
    }
    this.log.info(this.who, `vhost-net started (${this.useIotlb ? `device IOTLB, ${this.follower.entries.map((e) => notifierFlagsName(e.n.notifierFlags)).join(', ') || 'no IOMMU section'}` : 'guest-physical rings'})`);
    this.round(0b11);
  }

  /** vhost_net_stop: the indices go back to the device model; the device IOTLB is flushed for the next start. */
  stop(): void {
    if (!this.running) return;
    this.quiesce();
    this.running = false;
    this.followerInst?.stop();
    const w = this.worker;
    if (w) {
      if (!w.failed && !w.idled) this.rounds?.drain();
      // The indices live in the shared vring table: valid after the thread ended too.
      this.takeIndices(w);
      this.post(iotlbMsg(VHOST_IOTLB_INVALIDATE, 0n, 0n));
    }
    if (w) for (let v = 0; v < MAX_VQS; v++) w.channel.setVqField(v, VQ_NUM, 0);
    this.wireRx.clear();
    this.log.info(this.who, 'vhost-net stopped');
  }

  /** The ioeventfd: a round for the queue is posted to the worker; the machine goes on. */
  kick(index: number): void {
    if (!this.running) return;
    this.round(1 << index);
  }

  /** virtio_net's toggle_device_iotlb: re-register with the new flag (vhost_toggle_device_iotlb). */
  setDeviceIotlb(_enabled: boolean): void {
    if (!this.running) return;
    this.quiesce();
    this.follower.toggle();
  }

  /** The device goes away (unplug, machine end): stop, end the thread. */
  close(): void {
    this.quiesce();
    this.stop();
    this.worker?.terminate();
    this.worker = undefined;
    this.rounds = undefined;
    this.settlePoint?.remove(this);
  }

  /** Test and drill hook: ends the worker thread now (after its round in flight), as a crash would; the next kick reports it and starts a replacement. */
  killWorker(): void {
    this.quiesce();
    this.worker?.terminate();
  }

  /**
   * SettlePoint: waits for this device's round in flight and applies it;
   * true when another round of the series (or the retry on a replaced
   * worker) is in flight.
   */
  step(): boolean {
    const rounds = this.rounds;
    if (!rounds?.inFlight) return false;
    const r = rounds.step();
    if (r === 'more') return true;
    if (r === 'ok' || !this.running) return false;
    return this.recover(r);
  }

  /** Completes this device's rounds in flight (the vq mutex: nothing else touches the worker meanwhile). */
  quiesce(): void {
    if (!this.rounds?.inFlight) return;
    const sp = this.settlePoint;
    if (sp) sp.settleOne(this);
    while (this.rounds?.inFlight) if (!this.step()) break;
  }

  /**
   * Fault drill for tests and fuzzing: the current worker throws ('throw') or
   * stops responding ('hang', detected after roundTimeoutMs) at its
   * `afterPackets`-th packet step (each packet has a wire step and a used step).
   */
  crashDrill(kind: 'throw' | 'hang', afterPackets = 1): void {
    this.quiesce();
    const ctl = this.worker?.channel.ctl;
    if (!ctl) return;
    Atomics.store(ctl, W_CRASH_AFTER, afterPackets);
    Atomics.store(ctl, W_CRASH, kind === 'throw' ? CRASH_THROW : CRASH_HANG);
  }

  /** The worker thread: none (not started yet), running, idle (ended itself; restarted at the next kick), failed. */
  get workerState(): 'none' | 'running' | 'idle' | 'failed' {
    this.quiesce();
    const w = this.worker;
    return !w ? 'none' : w.idled ? 'idle' : w.failed ? 'failed' : 'running';
  }

  /** The worker's device IOTLB entries (for `info` and tests). */
  get iotlbEntries(): number {
    this.quiesce();
    return this.worker?.iotlb.entries ?? 0;
  }

  private fail(message: string): void {
    this.failure = message;
    this.log.err(this.who, `vhost-net failed: ${message}`);
    this.running = false;
    this.followerInst?.stop();
    this.vdev.virtioError(`vhost: ${message}`);
  }

  private ensureWorker(): VhostWorkerHandle | undefined {
    if (this.worker && !this.worker.failed && !this.worker.idled) return this.worker;
    if (this.worker) {
      this.worker.terminate();
      this.worker = undefined;
    }
    try {
      this.worker = new VhostWorkerHandle(this.wireTx, this.wireRx, this.opts.iotlb ?? {});
    } catch (e) {
      this.fail(e instanceof Error ? e.message : String(e));
      return undefined;
    }
    const prev = this.rounds;
    this.rounds = new VhostRounds(this.worker, this.vdev.peer, this.wireTx, this.wireRx, this.proxy.ctx.clock, {
      miss: (iova, write) => this.miss(iova, write),
      observe: (a) => this.observer?.(a),
      observing: () => this.observer !== undefined,
      error: (m) => this.workerError(m),
      call: (vq) => this.raise(vq),
      quiesce: () => this.quiesce(),
    }, this.opts.roundTimeoutMs ?? 5000, prev);
    this.rounds.trace = { tracer: this.proxy.ctx.mem.tracer, where: { group: 'vhost', track: `vhost ${this.proxy.bdfString}${this.proxy.id !== undefined ? ` (${this.proxy.id})` : ''}` } };
    return this.worker;
  }

  /** VHOST_SET_VRING_NUM/ADDR/BASE for each queue (the indices from the device, or kept in the table after a worker loss). */
  private programVrings(w: VhostWorkerHandle, keep: boolean, from?: VhostWorkerHandle): void {
    const ch = w.channel;
    this.vdev.queues.forEach((q, v) => {
      ch.setVqField(v, VQ_NUM, q.ready ? q.size : 0);
      ch.setVqField(v, VQ_DESC, q.descAddr);
      ch.setVqField(v, VQ_AVAIL, q.availAddr);
      ch.setVqField(v, VQ_USED, q.usedAddr);
      ch.setVqField(v, VQ_LAST_AVAIL, keep && from ? from.channel.vqField(v, VQ_LAST_AVAIL) : q.lastAvailIdx);
      ch.setVqField(v, VQ_USED_IDX, keep && from ? from.channel.vqField(v, VQ_USED_IDX) : q.usedIdx);
      ch.setVqField(v, VQ_ERROR, 0);
      ch.setVqField(v, VQ_PENDING_MISS, -1);
    });
  }

  /** vhost_virtqueue_stop: VHOST_GET_VRING_BASE into the device model's queues. */
  private takeIndices(w: VhostWorkerHandle): void {
    this.vdev.queues.forEach((q, v) => {
      if (q.ready) q.setIndices(w.channel.vqField(v, VQ_LAST_AVAIL), w.channel.vqField(v, VQ_USED_IDX));
    });
  }

  /** vhost_dev_start's loop: vhost_device_iotlb_miss(used_phys, true) for each queue, in one batch. */
  private prefault(): void {
    this.post(iotlbMsg(VHOST_IOTLB_BATCH_BEGIN));
    for (const q of this.vdev.queues) if (q.ready) this.miss(q.usedAddr, true);
    this.post(iotlbMsg(VHOST_IOTLB_BATCH_END));
  }

  /** The machine's answer to a MISS; true when an UPDATE went out. */
  private miss(iova: number, write: boolean): boolean {
    if (!this.mem) return false;
    const a = vhostDeviceIotlbMiss(this.proxy.busMaster.as, this.mem, iova, write);
    if (a.kind === 'update') {
      this.post(a.msg);
      return true;
    }
    if (a.kind === 'error') this.log.err(this.who, a.message);
    // A translation that faults: QEMU sends nothing and the ring stalls; viommu also tells the worker (ACCESS_FAIL), which stops the queue with a vq error.
    this.observer?.({ iova, length: 1, write, outcome: 'fault', time: this.proxy.ctx.clock.now });
    this.rounds?.accessFail(iova, write);
    return false;
  }

  /** vhost_backend_invalidate_device_iotlb: INVALIDATE(iova, size), size 0 meaning the whole 64-bit space. */
  private invalidate(iova: bigint, size: bigint): void {
    this.post(iotlbMsg(VHOST_IOTLB_INVALIDATE, iova, size));
  }

  private post(m: VhostIotlbMsg): void {
    this.quiesce();
    this.rounds?.post(m);
  }

  private get settlePoint(): SettlePoint | undefined {
    return this.proxy.ctx.settle;
  }

  /** The call eventfd: the interrupt is delivered at the end of the settle loop that applied the round, in the order raised. */
  private raise(vq: number): void {
    const sp = this.settlePoint;
    if (sp) sp.defer(() => this.vdev.callVq(vq));
    else this.vdev.callVq(vq);
  }

  private workerError(message: string): void {
    this.errors.push(message);
    this.log.err(this.who, message);
  }

  /**
   * Posts a round for the kicked queues (a kick on a device whose round is
   * still in flight completes that one first); restarts an idle-ended
   * worker, replaces a lost one. The SettlePoint completes it; a machine
   * without one completes it at once.
   */
  private round(kickMask: number): void {
    this.quiesce();
    let w = this.worker;
    if (!w || !this.rounds) return;
    if (w.idled || w.failed) {
      this.replaceWorker(w, w.idled ? 'idle' : 'lost');
      w = this.worker;
      if (!w || w.failed) return;
      kickMask = 0b11;
    }
    this.recovering = false;
    const s = this.rounds!.start(kickMask);
    if (s !== 'posted' && !this.recover(s)) return;
    const sp = this.settlePoint;
    if (sp && !this.opts.syncKicks) sp.started(this);
    else this.quiesce();
  }

  /** The worker was lost or had ended itself in the middle of a series: replace it; after an idle end, retry once. True when a round is in flight. */
  private recover(why: 'idle' | 'lost'): boolean {
    const w = this.worker;
    if (!w || !this.running) return false;
    this.replaceWorker(w, why);
    if (why !== 'idle' || this.recovering || !this.worker || this.worker.failed) return false;
    this.recovering = true;
    return this.rounds!.start(0b11) === 'posted';
  }

  /**
   * A worker died or hung (reported as an error), or ended itself after an
   * idle period (silently): start another and resume from the shared vring table.
   */
  private replaceWorker(old: VhostWorkerHandle, why: 'idle' | 'lost'): void {
    if (why === 'lost') {
      this.workerError(`vhost worker lost (${old.failed ? 'exited' : 'hung'}); starting a replacement`);
      for (const e of old.takeErrors()) this.workerError(`vhost worker: ${e.error}`);
      this.workerRestarts++;
    }
    old.terminate();
    this.worker = undefined;
    const w = this.ensureWorker();
    if (!w || !this.mem) return;
    w.setMem({ regions: this.mem.regions, mappings: this.mem.mappings, useIotlb: this.useIotlb });
    this.programVrings(w, true, old);
    if (this.useIotlb) this.prefault();
  }
}
