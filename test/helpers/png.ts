import { inflateSync } from 'node:zlib';

/** A decoded PNG: 8-bit RGB(A), rows of `width * channels` bytes. */
export interface Png {
  readonly width: number;
  readonly height: number;
  readonly channels: number;
  readonly data: Uint8Array;
}

/**
 * Decodes the PNGs headless Chromium writes (8-bit truecolour, with or
 * without alpha, not interlaced): IHDR, the IDAT stream inflated, then the
 * per-row filters of PNG 1.2 section 6 (None, Sub, Up, Average, Paeth).
 */
export function decodePng(buf: Buffer): Png {
  if (buf.readUInt32BE(0) !== 0x89504e47) throw new Error('not a PNG');
  let off = 8;
  let width = 0;
  let height = 0;
  let channels = 0;
  const idat: Buffer[] = [];
  while (off < buf.length) {
    const len = buf.readUInt32BE(off);
    const type = buf.toString('latin1', off + 4, off + 8);
    const body = buf.subarray(off + 8, off + 8 + len);
    if (type === 'IHDR') {
      width = body.readUInt32BE(0);
      height = body.readUInt32BE(4);
      const depth = body[8]!;
      const colour = body[9]!;
      if (depth !== 8 || (colour !== 2 && colour !== 6) || body[12] !== 0) throw new Error(`unsupported PNG (depth ${depth}, colour ${colour}, interlace ${body[12]})`);
      channels = colour === 6 ? 4 : 3;
    } else if (type === 'IDAT') idat.push(body);
    else if (type === 'IEND') break;
    off += 12 + len;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  const data = new Uint8Array(height * stride);
  for (let y = 0; y < height; y++) {
    const f = raw[y * (stride + 1)]!;
    const src = y * (stride + 1) + 1;
    const dst = y * stride;
    for (let x = 0; x < stride; x++) {
      const a = x >= channels ? data[dst + x - channels]! : 0;
      const b = y > 0 ? data[dst - stride + x]! : 0;
      const c = x >= channels && y > 0 ? data[dst - stride + x - channels]! : 0;
      const v = raw[src + x]!;
      let p: number;
      switch (f) {
        case 0: p = 0; break;
        case 1: p = a; break;
        case 2: p = b; break;
        case 3: p = (a + b) >> 1; break;
        case 4: {
          const pa = Math.abs(b - c);
          const pb = Math.abs(a - c);
          const pc = Math.abs(a + b - 2 * c);
          p = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
          break;
        }
        default: throw new Error(`bad PNG filter ${f}`);
      }
      data[dst + x] = (v + p) & 0xff;
    }
  }
  return { width, height, channels, data };
}

/** Pixels within `tolerance` (per channel) of a "#rrggbb" colour. */
export function countColour(png: Png, hex: string, tolerance = 8): number {
  const r = parseInt(hex.slice(1, 3), 16);
  const g = parseInt(hex.slice(3, 5), 16);
  const b = parseInt(hex.slice(5, 7), 16);
  let n = 0;
  for (let i = 0; i < png.data.length; i += png.channels) {
    if (Math.abs(png.data[i]! - r) <= tolerance && Math.abs(png.data[i + 1]! - g) <= tolerance && Math.abs(png.data[i + 2]! - b) <= tolerance) n++;
  }
  return n;
}

/** Pixels that are not (near) white. */
export function countInk(png: Png): number {
  let n = 0;
  for (let i = 0; i < png.data.length; i += png.channels) if (png.data[i]! < 240 || png.data[i + 1]! < 240 || png.data[i + 2]! < 240) n++;
  return n;
}
