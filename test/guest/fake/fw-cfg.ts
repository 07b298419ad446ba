import { readFileSync } from 'node:fs';
import { MEMTX_OK, type MemoryRegion } from '../../../src/memory/index.js';
import type { FakeMachine, IoHandler } from './machine.js';

export interface FwFile {
  readonly name: string;
  readonly select: number;
  data: Uint8Array;
  readonly writable?: boolean;
}

/** Reads a data file written by test/guest/data/record-fwcfg.mjs. */
export function loadRecordedFwCfg(path: string): FwFile[] {
  const files: FwFile[] = [];
  let cur: { name: string; select: number; size: number; hex: string } | undefined;
  const flush = (): void => {
    if (!cur) return;
    const data = new Uint8Array(cur.size);
    data.set(Buffer.from(cur.hex, 'hex').subarray(0, cur.size));
    files.push({ name: cur.name, select: cur.select, data });
  };
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (line.startsWith('#') || line.trim() === '') continue;
    if (line.startsWith('file ')) {
      flush();
      const [, sel, size, ...name] = line.split(' ');
      cur = { name: name.join(' '), select: Number(sel), size: Number(size), hex: '' };
    } else if (cur) cur.hex += line.trim();
  }
  flush();
  return files;
}

/** Reads a DTB data file written by test/guest/data/record-dtb.sh. */
export function loadRecordedDtb(path: string): Uint8Array {
  const text = readFileSync(path, 'utf8');
  const size = Number(/# size: (\d+)/.exec(text)?.[1] ?? 0);
  const hex = text.split('\n').filter((l) => !l.startsWith('#')).join('');
  const out = new Uint8Array(Math.max(size, hex.length / 2));
  out.set(Buffer.from(hex, 'hex'));
  return out;
}

/**
 * A fake fw_cfg device (QEMU docs/specs/fw_cfg.rst): signature, ID with the
 * DMA bit, the file directory at 0x19, files, and the DMA interface; as x86
 * ports or Arm MMIO.
 */
export class FakeFwCfg {
  private key = 0;
  private off = 0;
  private dmaHi = 0;
  readonly dmaRequests: number[] = [];
  readonly writes: { name: string; offset: number; data: number[] }[] = [];

  constructor(private readonly m: FakeMachine, readonly files: FwFile[], readonly dma = true) {}

  private item(key: number): Uint8Array {
    if (key === 0x00) return Uint8Array.from([0x51, 0x45, 0x4d, 0x55]);
    if (key === 0x01) return Uint8Array.from([this.dma ? 3 : 1, 0, 0, 0]);
    if (key === 0x19) {
      const d = new Uint8Array(4 + 64 * this.files.length);
      const v = new DataView(d.buffer);
      v.setUint32(0, this.files.length);
      this.files.forEach((f, i) => {
        v.setUint32(4 + i * 64, f.data.length);
        v.setUint16(8 + i * 64, f.select);
        for (let c = 0; c < f.name.length; c++) d[12 + i * 64 + c] = f.name.charCodeAt(c);
      });
      return d;
    }
    return this.files.find((f) => f.select === key)?.data ?? new Uint8Array(0);
  }

  select(key: number): void {
    this.key = key;
    this.off = 0;
  }
  readByte(): number {
    const it = this.item(this.key);
    return this.off < it.length ? it[this.off++]! : 0;
  }

  /** Runs one FWCfgDmaAccess at `addr` (big-endian fields), then clears control (or leaves ERROR). */
  runDma(addr: number): void {
    this.dmaRequests.push(addr);
    const mem = this.m.memory;
    const desc = new Uint8Array(16);
    mem.readBytes(addr, desc);
    const v = new DataView(desc.buffer);
    const control = v.getUint32(0);
    const length = v.getUint32(4);
    const address = v.getUint32(8) * 2 ** 32 + v.getUint32(12);
    let err = false;
    if (control & 0x08) this.select(control >>> 16);
    const it = this.item(this.key);
    if (control & 0x02) {
      const out = new Uint8Array(length);
      out.set(it.subarray(this.off, this.off + length));
      this.off += length;
      err = mem.writeBytes(address, out) !== MEMTX_OK;
    } else if (control & 0x10) {
      const f = this.files.find((x) => x.select === this.key);
      if (!f?.writable || this.off + length > f.data.length) err = true;
      else {
        const src = new Uint8Array(length);
        mem.readBytes(address, src);
        f.data.set(src, this.off);
        this.writes.push({ name: f.name, offset: this.off, data: [...src] });
        this.off += length;
      }
    } else if (control & 0x04) {
      this.off += length;
    }
    const done = new Uint8Array(4);
    if (err) done[3] = 1;
    mem.writeBytes(addr, done);
  }

  io(): IoHandler {
    return {
      base: 0x510,
      size: 12,
      in: (p, size) => {
        if (p === 0x511) return this.readByte();
        if (p === 0x514 && size === 4 && this.dma) return 0x554d4551; // "QEMU" in port byte order
        if (p === 0x518 && size === 4 && this.dma) return 0x47464320; // " CFG"
        return 0;
      },
      out: (p, size, v) => {
        if (p === 0x510 && size === 2) this.select(v & 0xffff);
        else if (p === 0x514 && size === 4) this.dmaHi = ((v & 0xff) << 24 | (v & 0xff00) << 8 | (v >>> 8) & 0xff00 | v >>> 24) >>> 0;
        else if (p === 0x518 && size === 4 && this.dma) {
          const lo = ((v & 0xff) << 24 | (v & 0xff00) << 8 | (v >>> 8) & 0xff00 | v >>> 24) >>> 0;
          this.runDma(this.dmaHi * 2 ** 32 + lo);
        }
      },
    };
  }

  mmio(): MemoryRegion {
    const bs = (v: number): number => ((v & 0xff) << 24 | (v & 0xff00) << 8 | (v >>> 8) & 0xff00 | v >>> 24) >>> 0;
    return this.m.mem.mmio('fw_cfg', 0x18, {
      read: (off, size) => {
        if (off < 8) {
          let v = 0;
          for (let i = 0; i < size; i++) v |= this.readByte() << (i * 8);
          return v >>> 0;
        }
        if (off === 16 && size === 4 && this.dma) return bs(0x51454d55);
        if (off === 20 && size === 4 && this.dma) return bs(0x20434647);
        return 0;
      },
      write: (off, size, v) => {
        if (off === 8 && size === 2) this.select(((v & 0xff) << 8) | (v >>> 8));
        else if (off === 16 && size === 4) this.dmaHi = bs(v);
        else if (off === 20 && size === 4 && this.dma) this.runDma(this.dmaHi * 2 ** 32 + bs(v));
      },
      valid: { min: 1, max: 8, unaligned: false },
      impl: { min: 1, max: 4, unaligned: false },
    });
  }
}
