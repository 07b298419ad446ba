import type { EventLog } from '../../base/event-log.js';
import type { Tracer } from '../../base/trace.js';
import type { AddressSpace } from '../../memory/address-space.js';
import type { IOMMUTLBEntry } from '../../memory/iommu-types.js';
import { ViommuDomain, ViommuEndpoint } from './domain.js';
import type { EndpointRegion, EndpointTranslator } from './endpoint-region.js';
import { mapRequest, unmapRequest } from './map-unmap.js';
import type { VirtioIommuOptions } from './options.js';
import { probeReply } from './probe.js';
import {
  VIRTIO_IOMMU_ATTACH_F_BYPASS, VIRTIO_IOMMU_F_BYPASS_CONFIG, VIRTIO_IOMMU_REQ_HEAD_SIZE, VIRTIO_IOMMU_REQ_SIZE,
  VIRTIO_IOMMU_REQ_TAIL_SIZE, VIRTIO_IOMMU_S_INVAL, VIRTIO_IOMMU_S_NOENT, VIRTIO_IOMMU_S_NOMEM, VIRTIO_IOMMU_S_OK,
  VIRTIO_IOMMU_S_RANGE, VIRTIO_IOMMU_S_UNSUPP, VIRTIO_IOMMU_T_ATTACH, VIRTIO_IOMMU_T_DETACH, VIRTIO_IOMMU_T_MAP,
  VIRTIO_IOMMU_T_PROBE, VIRTIO_IOMMU_T_UNMAP,
} from './regs.js';
import { decodeRequest, type AttachReq, type DetachReq } from './requests.js';
import { VIOMMU_TRACK } from './trace-track.js';
import { translate, translateBatch } from './translate.js';
import { notifyMapping, notifyMappings } from './viommu-notify.js';
import { Iotlb } from '../iotlb/iotlb.js';
import type { IOMMUNotifier } from '../notifier.js';

/** What the device logic needs from its platform binding (virtio-iommu-pci in src/virtio). */
export interface ViommuPlatform {
  /** The region of endpoint `id` if such an endpoint exists (a requester under the IOMMU's bus). */
  endpointRegion(id: number): EndpointRegion | undefined;
  /** Every endpoint region that exists. */
  regions(): Iterable<EndpointRegion>;
  /** address_space_memory: the target of translations. */
  readonly systemAs: AddressSpace;
  /** Puts a fault report on the event queue (virtio_iommu_report_fault). */
  reportFault(reason: number, flags: number, endpoint: number, address: number): void;
  readonly log: EventLog;
  /** The machine's tracer: requests (ATTACH, MAP, UNMAP...) become spans on the device's track. */
  readonly tracer?: Tracer;
}

/**
 * How a request ends: a reply of `data` written at `offset` of the
 * device-writable part (used length offset + data.length), buffers
 * returned unwritten (used length 0), or a device error (NEEDS_RESET).
 */
export type RequestOutcome =
  | { readonly kind: 'reply'; readonly offset: number; readonly data: Uint8Array; readonly status: number }
  | { readonly kind: 'unused' }
  | { readonly kind: 'error'; readonly message: string };

/** Request types by number (virtio 1.2 section 5.13.6), for traces. */
const VIRTIO_IOMMU_REQ_NAMES: Readonly<Record<number, string>> = { 1: 'ATTACH', 2: 'DETACH', 3: 'MAP', 4: 'UNMAP', 5: 'PROBE' };

function tail(status: number): RequestOutcome {
  const data = new Uint8Array(VIRTIO_IOMMU_REQ_TAIL_SIZE);
  data[0] = status;
  return { kind: 'reply', offset: 0, data, status };
}

/**
 * The virtio-iommu device logic (QEMU hw/virtio/virtio-iommu.c), free of
 * any transport: domains, endpoints, mappings, requests, the bypass rule,
 * translation and fault reports. Spec-strict by default (virtio 1.2
 * section 5.13, ref B4); `qemuCompat` reproduces QEMU 7.2's departures
 * (ref B7) where they differ.
 */
export class VirtioIommu implements EndpointTranslator {
  readonly domains = new Map<number, ViommuDomain>();
  readonly endpoints = new Map<number, ViommuEndpoint>();
  /** config.bypass. */
  bypass: boolean;
  /** Features the driver accepted (the transport keeps this current). */
  negotiated = 0n;
  mappingCount = 0;
  /**
   * The shared IOTLB in front of the mapping trees (tagged by domain): a
   * translation hits here with plain loads and walks a tree only on a miss.
   * Requests run on the thread that translates, so an UNMAP's invalidation
   * is complete when its reply is written.
   */
  readonly iotlb: Iotlb;
  readonly counters = { requests: 0, faults: 0, dropped: 0 };
  /** The granule as a number, reserved regions as [low, high, subtype] triples (hot-path copies). */
  readonly granulePage: number;
  readonly reservedNumeric: Float64Array;
  /** The one translation entry handed to the memory core (read at once, never kept). */
  readonly scratch: IOMMUTLBEntry;
  private nextTag = 1;

  constructor(readonly opts: VirtioIommuOptions, readonly platform: ViommuPlatform) {
    this.bypass = opts.bootBypass;
    this.iotlb = Iotlb.create(opts.iotlb);
    this.granulePage = Number(this.granule);
    const lim = (v: bigint): number => (v >= 1n << 53n ? 2 ** 53 : Number(v));
    this.reservedNumeric = Float64Array.from(opts.reservedRegions.flatMap((r) => [lim(r.low), lim(r.high), r.type]));
    this.scratch = { targetAs: null, iova: 0, translatedAddr: 0, addrMask: 0, perm: 0 };
  }

  /** Whether [b, b + size) touches a reserved region. */
  overlapsReserved(b: number, size: number): boolean {
    const r = this.reservedNumeric;
    for (let i = 0; i < r.length; i += 3) if (b <= r[i + 1]! && b + size - 1 >= r[i]!) return true;
    return false;
  }

  get compat(): boolean {
    return this.opts.qemuCompat;
  }
  /** The page granule: the lowest bit of page_size_mask. */
  get granule(): bigint {
    const m = this.opts.pageSizeMask;
    return m & -m;
  }
  negotiatedFeature(bit: number): boolean {
    return (this.negotiated & (1n << BigInt(bit))) !== 0n;
  }
  inDomainRange(id: number): boolean {
    return id >= this.opts.domainStart && id <= this.opts.domainEnd;
  }

  /** The device's request handler for one request (virtio_iommu_handle_command's body). */
  handleRequest(out: Uint8Array, outLen: number, inLen: number): RequestOutcome {
    const tracer = this.platform.tracer;
    if (tracer === undefined || !tracer.on) return this.request(out, outLen, inLen);
    // A MAP/UNMAP is the guest's invalidation; the request's tail status is its completion.
    const name = `${VIRTIO_IOMMU_REQ_NAMES[out[0]!] ?? `request ${out[0]}`} request`;
    tracer.begin(VIOMMU_TRACK, 'inv', name);
    const r = this.request(out, outLen, inLen);
    tracer.end(VIOMMU_TRACK, 'inv', name, r.kind === 'reply' ? { status: r.status } : { outcome: r.kind });
    return r;
  }

  private request(out: Uint8Array, outLen: number, inLen: number): RequestOutcome {
    this.counters.requests++;
    if (inLen < VIRTIO_IOMMU_REQ_TAIL_SIZE || outLen < VIRTIO_IOMMU_REQ_HEAD_SIZE) {
      // The tail cannot be found: QEMU stops the device; the spec returns the buffers unwritten.
      if (this.compat) return { kind: 'error', message: 'virtio-iommu bad head/tail size' };
      return inLen < VIRTIO_IOMMU_REQ_TAIL_SIZE ? { kind: 'unused' } : tail(VIRTIO_IOMMU_S_INVAL);
    }
    const type = out[0]!;
    const size = VIRTIO_IOMMU_REQ_SIZE[type];
    if (size === undefined) {
      // Spec: not written, used length 0. QEMU writes UNSUPP.
      return this.compat ? tail(VIRTIO_IOMMU_S_UNSUPP) : { kind: 'unused' };
    }
    if (type === VIRTIO_IOMMU_T_PROBE) return probeReply(this, out, outLen, inLen);
    if (outLen < size) return tail(VIRTIO_IOMMU_S_INVAL);
    const req = decodeRequest(out.subarray(0, size));
    switch (req.type) {
      case VIRTIO_IOMMU_T_ATTACH: return tail(this.attach(req));
      case VIRTIO_IOMMU_T_DETACH: return tail(this.detach(req));
      case VIRTIO_IOMMU_T_MAP: return tail(mapRequest(this, req));
      case VIRTIO_IOMMU_T_UNMAP: return tail(unmapRequest(this, req));
      default: return tail(VIRTIO_IOMMU_S_INVAL);
    }
  }

  /** virtio_iommu_get_endpoint: the endpoint's state, created on first use if the endpoint exists. */
  private getEndpoint(id: number): ViommuEndpoint | undefined {
    let ep = this.endpoints.get(id);
    if (ep) return ep;
    const region = this.platform.endpointRegion(id);
    if (!region) return undefined;
    ep = new ViommuEndpoint(id, region);
    this.endpoints.set(id, ep);
    return ep;
  }

  /** ATTACH (section 5.13.6.3). */
  attach(req: AttachReq): number {
    const knownFlags = this.compat || this.negotiatedFeature(VIRTIO_IOMMU_F_BYPASS_CONFIG) ? VIRTIO_IOMMU_ATTACH_F_BYPASS : 0;
    if (!this.compat && req.reserved) return VIRTIO_IOMMU_S_INVAL;
    if (req.flags & ~knownFlags) return VIRTIO_IOMMU_S_INVAL;
    if (!this.compat && !this.inDomainRange(req.domain)) return VIRTIO_IOMMU_S_RANGE;
    const ep = this.getEndpoint(req.endpoint);
    if (!ep) return VIRTIO_IOMMU_S_NOENT;
    const bypass = (req.flags & VIRTIO_IOMMU_ATTACH_F_BYPASS) !== 0;
    let domain = this.domains.get(req.domain);
    if (!this.compat) {
      // Refuse before changing anything; attaching where it already is changes nothing.
      if (domain && domain.bypass !== bypass) return VIRTIO_IOMMU_S_INVAL;
      if (domain && ep.domain === domain) return VIRTIO_IOMMU_S_OK;
      if (!domain && this.domains.size >= this.opts.maxDomains && ep.domain?.endpoints.length !== 1) return VIRTIO_IOMMU_S_NOMEM;
    }
    // An endpoint attached elsewhere is detached first (QEMU: even when the request then fails).
    if (ep.domain) this.detachEndpoint(ep);
    domain = this.domains.get(req.domain);
    if (domain && domain.bypass !== bypass) return VIRTIO_IOMMU_S_INVAL;
    if (!domain) {
      if (this.domains.size >= this.opts.maxDomains) return VIRTIO_IOMMU_S_NOMEM;
      domain = new ViommuDomain(req.domain, bypass, this.nextTag++);
      this.domains.set(domain.id, domain);
    }
    domain.endpoints.unshift(ep);
    ep.domain = domain;
    this.switchAddressSpace(ep.region);
    // Replay the domain's mappings on the endpoint's region.
    notifyMappings([ep], domain.mappings.all(), true);
    return VIRTIO_IOMMU_S_OK;
  }

  /** DETACH (section 5.13.6.4). QEMU answers NOENT for an endpoint it never attached; the spec for one that does not exist. */
  detach(req: DetachReq): number {
    const ep = this.endpoints.get(req.endpoint);
    if (!ep && (this.compat || !this.platform.endpointRegion(req.endpoint))) return VIRTIO_IOMMU_S_NOENT;
    const domain = ep?.domain;
    if (!ep || !domain || domain.id !== req.domain) return VIRTIO_IOMMU_S_INVAL;
    this.detachEndpoint(ep);
    return VIRTIO_IOMMU_S_OK;
  }

  /**
   * virtio_iommu_detach_endpoint_from_domain: UNMAP notifications for the
   * domain's mappings on the endpoint's region, then the address space
   * switch; a domain left without endpoints ceases to exist.
   */
  detachEndpoint(ep: ViommuEndpoint): void {
    const domain = ep.domain;
    if (!domain) return;
    notifyMappings([ep], domain.mappings.all(), false);
    domain.endpoints.splice(domain.endpoints.indexOf(ep), 1);
    ep.domain = undefined;
    this.switchAddressSpace(ep.region);
    if (domain.endpoints.length === 0) this.deleteDomain(domain);
  }

  private deleteDomain(domain: ViommuDomain): void {
    this.mappingCount -= domain.mappings.size;
    domain.mappings.clear();
    this.domains.delete(domain.id);
    this.iotlb.invalidateContext(domain.tag);
  }

  /** Drops cached translations of [start, end] in a domain (only ranges below 2^53 are ever cached). */
  invalidateRange(domain: ViommuDomain, start: bigint, end: bigint): void {
    const lim = 1n << 53n;
    if (start >= lim) return;
    const last = end < lim ? end : lim - 1n;
    this.iotlb.invalidateRange(domain.tag, Number(start), Number(last - start + 1n));
  }

  /** The bypass rule (section 5.13.6; virtio_iommu_device_bypassed): BYPASS_CONFIG is always offered. */
  isBypassed(sid: number): boolean {
    const ep = this.endpoints.get(sid);
    return ep?.domain ? ep.domain.bypass : this.bypass;
  }

  switchAddressSpace(region: EndpointRegion): void {
    region.switchAddressSpace(!this.isBypassed(region.sid()));
  }

  /** virtio_iommu_switch_address_space_all. */
  switchAll(): void {
    for (const r of this.platform.regions()) this.switchAddressSpace(r);
  }

  /** set_config of the bypass byte; a message when the driver may not write it (the device then needs a reset). */
  writeBypass(value: number): string | undefined {
    if ((value !== 0) === this.bypass && value <= 1) return undefined;
    if (!this.negotiatedFeature(VIRTIO_IOMMU_F_BYPASS_CONFIG)) return 'cannot set config.bypass';
    if (value > 1) return `invalid config.bypass value '${value}'`;
    this.bypass = value === 1;
    this.switchAll();
    return undefined;
  }

  /** virtio_iommu_device_reset: every endpoint detached, domains and endpoints dropped (config.bypass is kept). */
  deviceReset(): void {
    for (const ep of this.endpoints.values()) this.detachEndpoint(ep);
    this.endpoints.clear();
    this.domains.clear();
    this.mappingCount = 0;
    this.iotlb.invalidateAll();
    this.negotiated = 0n;
    this.switchAll();
  }

  /** virtio_iommu_system_reset: config.bypass goes back to boot-bypass. */
  systemReset(): void {
    this.bypass = this.opts.bootBypass;
    this.switchAll();
  }

  /** A requester went away (unplug): its endpoint state goes, so a new function at that ID starts clean. */
  endpointRemoved(id: number): void {
    const ep = this.endpoints.get(id);
    if (!ep) return;
    this.detachEndpoint(ep);
    this.endpoints.delete(id);
  }

  translate(region: EndpointRegion, addr: number, flag: number): IOMMUTLBEntry {
    return translate(this, region, addr, flag);
  }

  /** Translates iovas[from..to) of one endpoint into out (the translated address, or -1): see translate.ts. */
  translateBatch(region: EndpointRegion, access: number, iovas: Float64Array, from: number, to: number, out: Float64Array): number {
    return translateBatch(this, region, access, iovas, from, to, out);
  }

  /** virtio_iommu_replay: MAP events for every mapping of the endpoint's domain, to the notifier. */
  replay(region: EndpointRegion, n: IOMMUNotifier): void {
    const domain = this.endpoints.get(region.sid())?.domain;
    if (!domain) return;
    for (const m of domain.mappings.all()) notifyMapping(region, m, true, n);
  }
}
