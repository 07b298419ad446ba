import { FakeMachine } from './machine.js';
import { acsCap, atsCap, FakeFn, FakePciHost, msiCap, msixCap, pasidCap, pcieCap, vendorCap } from './pci.js';

/** Linux's ACS isolation set: SV | RR | CR | UF. */
export const ACS_ISOLATING = 0x1 | 0x4 | 0x8 | 0x10;

export interface Topology {
  readonly m: FakeMachine;
  readonly host: FakePciHost;
  readonly fns: Record<string, FakeFn>;
}

/**
 * A PCIe hierarchy for enumeration and grouping tests:
 * 00:00.0 host bridge; 00:01.0 root port (ACS per option) -> 00.0 PCIe
 * endpoint with ATS, PASID, MSI, a 64-bit prefetchable and a 32-bit BAR;
 * 00:03.0 root port -> 00.0 PCIe-to-PCI bridge -> conventional 01.0 and
 * 02.0 (one with an I/O BAR); 00:04.0/1 a multi-function endpoint without
 * ACS; 00:05.0 a virtio-net (1af4:1041) with virtio vendor capabilities.
 */
export function pcieTopology(o: { rootPortAcs?: number; mfAcs?: number } = {}): Topology {
  const m = new FakeMachine('q35', 16 << 20);
  const host = new FakePciHost(m);
  const fns: Record<string, FakeFn> = {};
  const add = (name: string, bus: FakeFn | undefined, slot: number, fn: number, f: FakeFn): FakeFn => {
    fns[name] = host.add(bus ? bus.child! : host.root, slot, fn, f);
    return f;
  };
  add('hostbridge', undefined, 0, 0, new FakeFn({ vendor: 0x8086, device: 0x29c0, classCode: 0x060000 }));
  const rp1 = add('rp1', undefined, 1, 0, new FakeFn({
    vendor: 0x1b36, device: 0x000c, classCode: 0x060400, bridge: true, caps: [pcieCap(4)],
    ...(o.rootPortAcs !== undefined ? { extCaps: [acsCap(o.rootPortAcs)] } : {}),
  }));
  add('ep', rp1, 0, 0, new FakeFn({
    vendor: 0x8086, device: 0x1234, classCode: 0x020000, caps: [pcieCap(0), msiCap()], extCaps: [atsCap(), pasidCap(8)],
    bars: [{ index: 0, size: 16 << 20, kind: 'mem64', prefetchable: true }, { index: 2, size: 0x1000, kind: 'mem32' }],
  }));
  const rp2 = add('rp2', undefined, 3, 0, new FakeFn({
    vendor: 0x1b36, device: 0x000c, classCode: 0x060400, bridge: true, caps: [pcieCap(4)],
    ...(o.rootPortAcs !== undefined ? { extCaps: [acsCap(o.rootPortAcs)] } : {}),
  }));
  const p2p = add('pcie2pci', rp2, 0, 0, new FakeFn({ vendor: 0x1b36, device: 0x000e, classCode: 0x060400, bridge: true, caps: [pcieCap(7)] }));
  add('legacy1', p2p, 1, 0, new FakeFn({ vendor: 0x1234, device: 0x0001, bars: [{ index: 0, size: 0x100, kind: 'io' }, { index: 1, size: 0x2000, kind: 'mem32' }] }));
  add('legacy2', p2p, 2, 0, new FakeFn({ vendor: 0x1234, device: 0x0002, bars: [{ index: 0, size: 0x10000, kind: 'mem32' }] }));
  const mfCaps = { caps: [pcieCap(0)], ...(o.mfAcs !== undefined ? { extCaps: [acsCap(o.mfAcs)] } : {}) };
  add('mf0', undefined, 4, 0, new FakeFn({ vendor: 0x8086, device: 0x10c9, classCode: 0x020000, multifunction: true, ...mfCaps, bars: [{ index: 0, size: 0x20000, kind: 'mem32' }] }));
  add('mf1', undefined, 4, 1, new FakeFn({ vendor: 0x8086, device: 0x10c9, classCode: 0x020000, multifunction: true, ...mfCaps, bars: [{ index: 0, size: 0x20000, kind: 'mem32' }] }));
  // virtio 1.2 section 4.1.4: {cfg_type, bar, id, pad[2], offset, length} (+ notify_off_multiplier for type 2).
  const vcap = (type: number, bar: number, off: number, len: number, extra: number[] = []): number[] =>
    [type, bar, 0, 0, 0, ...[off, len].flatMap((v) => [v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, v >>> 24]), ...extra];
  add('virtio', undefined, 5, 0, new FakeFn({
    vendor: 0x1af4, device: 0x1041, classCode: 0x020000,
    caps: [msixCap(3), vendorCap(vcap(1, 4, 0, 0x1000)), vendorCap(vcap(2, 4, 0x3000, 0x1000, [4, 0, 0, 0])), vendorCap(vcap(3, 4, 0x1000, 0x1000)), vendorCap(vcap(4, 4, 0x2000, 0x1000))],
    bars: [{ index: 4, size: 0x4000, kind: 'mem64', prefetchable: true }],
  }));
  return { m, host, fns };
}
