import { hex, type Tracer } from '../base/trace.js';
import type { DmaObservation, DmaObserver } from '../guest/oracle/observation.js';

/**
 * One DMA transaction in the trace: a zero-length span on the device's
 * track ("devices" group) named by direction, with the IOVA, length,
 * outcome and the guest-physical address it reached. Translation takes no
 * virtual time, so the span is instantaneous; the vIOMMU's miss and fill
 * for it are on the vIOMMU's track at the same timestamp.
 */
export function traceDma(tracer: Tracer, o: DmaObservation): void {
  tracer.complete({ group: 'devices', track: o.device ?? `rid ${hex(o.requesterId)}` }, 'dma', o.write ? 'DMA write' : 'DMA read', {
    iova: hex(o.iova), len: o.length, outcome: o.outcome, path: o.path,
    ...(o.gpa !== undefined ? { gpa: hex(o.gpa) } : {}),
    ...(o.pasid !== undefined ? { pasid: o.pasid } : {}),
  }, o.time);
}

/** `sink` plus the trace: every observation also becomes a DMA event while the machine's tracer is on. */
export function withDmaTrace(sink: DmaObserver, tracer: Tracer): DmaObserver {
  return {
    observe(o: DmaObservation): void {
      sink.observe(o);
      if (tracer.on) traceDma(tracer, o);
    },
  };
}
