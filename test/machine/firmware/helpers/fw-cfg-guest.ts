import type { GuestPort } from '../../../../src/guest/port.js';

/**
 * fw_cfg as a firmware drives it through a GuestPort (docs/specs/fw_cfg.rst,
 * written here from the spec, sharing nothing with the device model):
 * select an item, read data bytes, start a DMA at a descriptor address.
 */
export interface FwCfgDriver {
  select(key: number): void;
  byte(): number;
  /** Starts a transfer whose FWCfgDmaAccess sits at guest address `desc`. */
  dma(desc: number): void;
  /** Guest RAM the driver may use for descriptors and buffers. */
  readonly scratch: number;
}

const bswap32 = (v: number): number => (((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24)) >>> 0;

/** x86: selector le16 at 0x510, data at 0x511, DMA address be64 at 0x514 (high half first, low half starts it). */
export function fwCfgIoPorts(p: GuestPort): FwCfgDriver {
  const io = p.io!;
  return {
    select: (key) => io.out(0x510, 2, key),
    byte: () => io.in(0x511, 1),
    dma: (desc) => {
      io.out(0x514, 4, 0);
      io.out(0x518, 4, bswap32(desc));
    },
    scratch: 0x10_0000,
  };
}

/** Arm virt: data at base, be16 selector at base + 8, be64 DMA address at base + 16. */
export function fwCfgMmio(p: GuestPort, base = 0x0902_0000): FwCfgDriver {
  return {
    select: (key) => void p.writeBytes(base + 8, Uint8Array.of(key >> 8, key & 0xff)),
    byte: () => p.read(base, 1).lo,
    dma: (desc) => {
      const a = new Uint8Array(8);
      new DataView(a.buffer).setBigUint64(0, BigInt(desc));
      p.writeBytes(base + 16, a);
    },
    scratch: p.ramRanges[0]!.base + 0x10_0000,
  };
}

/** The file directory (selector 0x19) read through the data register: be32 count, then 64-byte entries. */
export function fwCfgDirectory(f: FwCfgDriver): { name: string; size: number; select: number }[] {
  f.select(0x19);
  const be = (n: number): number => {
    let v = 0;
    for (let i = 0; i < n; i++) v = v * 256 + f.byte();
    return v;
  };
  const out = [];
  for (let i = be(4); i > 0; i--) {
    const size = be(4);
    const select = be(2);
    be(2);
    let name = '';
    for (let k = 0; k < 56; k++) {
      const c = f.byte();
      if (c) name += String.fromCharCode(c);
    }
    out.push({ name, size, select });
  }
  return out;
}

/** A whole file by name: directory through the data register, contents by one DMA read (select | read). */
export function readFwCfgFile(f: FwCfgDriver, p: GuestPort, name: string): Uint8Array {
  const e = fwCfgDirectory(f).find((x) => x.name === name);
  if (!e) throw new Error(`no fw_cfg file ${name}`);
  const desc = new Uint8Array(16);
  const dv = new DataView(desc.buffer);
  dv.setUint32(0, ((e.select << 16) | 0x08 | 0x02) >>> 0);
  dv.setUint32(4, e.size);
  dv.setBigUint64(8, BigInt(f.scratch + 0x1000));
  p.writeBytes(f.scratch, desc);
  f.dma(f.scratch);
  const status = new Uint8Array(4);
  p.readBytes(f.scratch, status);
  if (status.some((b) => b !== 0)) throw new Error(`fw_cfg DMA of ${name} failed: control ${Buffer.from(status).toString('hex')}`);
  const out = new Uint8Array(e.size);
  p.readBytes(f.scratch + 0x1000, out);
  return out;
}

/** The three ACPI files, read in the order SeaBIOS's loader does (the loader first: its select triggers the build). */
export function readAcpiFiles(f: FwCfgDriver, p: GuestPort): { loader: Uint8Array; tables: Uint8Array; rsdp: Uint8Array } {
  const loader = readFwCfgFile(f, p, 'etc/table-loader');
  return { loader, tables: readFwCfgFile(f, p, 'etc/acpi/tables'), rsdp: readFwCfgFile(f, p, 'etc/acpi/rsdp') };
}
