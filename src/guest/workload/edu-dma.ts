import type { GuestDevice } from '../device.js';
import { EduDriver, EDU_DMA_BUF_SIZE } from '../drivers/edu.js';
import { errnoName } from '../errno.js';
import { PAGE_SIZE } from '../page-alloc.js';
import type { Workload, WorkloadContext } from './workload.js';

/**
 * edu-dma: for each bound edu device, `iterations` round trips of a random
 * length (1..maxBytes) at a random offset in a fresh buffer: RAM -> device
 * (mapped DMA_TO_DEVICE), then device -> another buffer (DMA_FROM_DEVICE),
 * then the two buffers are compared. Each transfer maps and unmaps, so the
 * DMA mode decides how many invalidations happen.
 */
export function eduDmaWorkload(driver: EduDriver): Workload {
  return {
    name: 'edu-dma',
    description: 'round-trip DMA through each edu device with map/unmap per transfer, data checked',
    params: [
      { name: 'iterations', default: 8, description: 'round trips per device' },
      { name: 'maxBytes', default: EDU_DMA_BUF_SIZE, description: 'largest transfer (the device buffer is 4096 bytes)' },
    ],
    run(ctx: WorkloadContext) {
      const { kernel: k, prng, params } = ctx;
      const iterations = Math.max(0, Math.floor(params['iterations'] as number));
      const maxBytes = Math.min(EDU_DMA_BUF_SIZE, Math.max(1, Math.floor(params['maxBytes'] as number)));
      const errors: string[] = [];
      let ops = 0;
      let bytes = 0;
      let mismatches = 0;
      const devs: GuestDevice[] = [...driver.instances.keys()];
      if (devs.length === 0) errors.push('no edu device is bound');
      for (const dev of devs) {
        for (let i = 0; i < iterations && errors.length < 10; i++) {
          const len = 1 + prng.below(maxBytes);
          const off = prng.below(PAGE_SIZE);
          const bufOff = prng.below(EDU_DMA_BUF_SIZE - len + 1);
          const src = k.mem.alloc(off + len);
          const dst = k.mem.alloc(off + len);
          if (src === undefined || dst === undefined) {
            errors.push('out of guest memory');
            break;
          }
          const data = new Uint8Array(len);
          for (let b = 0; b < len; b++) data[b] = prng.next() & 0xff;
          k.port.writeBytes(src + off, data);
          k.port.writeBytes(dst + off, new Uint8Array(len));
          let ret = driver.transfer(dev, src + off, len, 'to-device', bufOff);
          if (ret === 0) ret = driver.transfer(dev, dst + off, len, 'from-device', bufOff);
          ops += 2;
          if (ret) errors.push(`${dev.name}: transfer ${i} failed: ${errnoName(ret)}`);
          else {
            bytes += 2 * len;
            const back = new Uint8Array(len);
            k.port.readBytes(dst + off, back);
            const bad = back.findIndex((v, j) => v !== data[j]);
            if (bad >= 0) {
              mismatches++;
              errors.push(`${dev.name}: round trip ${i} (${len} bytes) differs at byte ${bad}`);
            }
          }
          k.mem.freePages(src, off + len);
          k.mem.freePages(dst, off + len);
        }
      }
      return { ok: errors.length === 0, ops, bytes, errors, details: { devices: devs.length, mismatches } };
    },
  };
}
