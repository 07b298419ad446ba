import type { VirtioDma } from './dma.js';

/** One guest buffer of a descriptor chain. */
export interface VirtqBuffer {
  readonly addr: number;
  readonly len: number;
}

/**
 * A popped descriptor chain (QEMU VirtQueueElement): the head index, the
 * device-readable buffers (out) and the device-writable ones (in), in
 * chain order. Copies go through the queue's DMA space and report failure
 * as false: the device turns that into DEVICE_NEEDS_RESET (QEMU's "bogus
 * descriptor"), never an exception.
 */
export class VirtqElement {
  readonly outBytes: number;
  readonly inBytes: number;

  constructor(readonly head: number, readonly out: readonly VirtqBuffer[], readonly inBufs: readonly VirtqBuffer[],
    private readonly dma: VirtioDma) {
    this.outBytes = out.reduce((n, b) => n + b.len, 0);
    this.inBytes = inBufs.reduce((n, b) => n + b.len, 0);
  }

  /** iov_to_buf: copies up to dst.length bytes of the readable part from `offset`; the count, or -1 on a failed access. */
  readOut(offset: number, dst: Uint8Array): number {
    return copy(this.out, offset, dst, (addr, part) => this.dma.read(addr, part));
  }

  /** iov_from_buf: copies src into the writable part from `offset`; the count, or -1 on a failed access. */
  writeIn(offset: number, src: Uint8Array): number {
    return copy(this.inBufs, offset, src, (addr, part) => this.dma.write(addr, part));
  }
}

function copy(bufs: readonly VirtqBuffer[], offset: number, data: Uint8Array,
  access: (addr: number, part: Uint8Array) => boolean): number {
  let done = 0;
  let skip = offset;
  for (const b of bufs) {
    if (done === data.length) break;
    if (skip >= b.len) {
      skip -= b.len;
      continue;
    }
    const n = Math.min(b.len - skip, data.length - done);
    if (!access(b.addr + skip, data.subarray(done, done + n))) return -1;
    done += n;
    skip = 0;
  }
  return done;
}
