import { EduDriver, EDU_DMA_BUF_SIZE } from '../../guest/drivers/edu.js';
import { EEXIST, ENODEV, errnoName } from '../../guest/errno.js';
import { PAGE_SIZE } from '../../guest/page-alloc.js';
import { pendingAction, type ActionContext, type ActionResult, type DeviceRef, type GuestAction } from './actions.js';

const ISSUE_11 = 'issue 11 (vhost virtio-net and the VFIO passthrough model)';

function where(d: DeviceRef): string {
  return d.bdf ? `${d.ref} (${d.bdf})` : d.ref;
}

/** The guest's device for a script name, or a failed result saying why not. */
function guestDevice(ctx: ActionContext, ref: string): DeviceRef | ActionResult {
  const d = ctx.device(ref);
  if (d.guest) return d;
  if (!d.machine && !d.bdf) return { ok: false, detail: `no device '${ref}' in the machine`, expected: `a device with id or BDF '${ref}'` };
  return { ok: false, detail: `the guest has no device at ${where(d)}${d.machine ? ' (the machine has it, the guest has not enumerated it)' : ''}`, expected: `the guest to know ${ref}` };
}

function failed(r: DeviceRef | ActionResult): r is ActionResult {
  return 'ok' in r;
}

/** Runs `f` and fails the action if the DMA oracle reported a violation meanwhile. */
function watched(ctx: ActionContext, f: () => ActionResult): ActionResult {
  const oracle = ctx.kernel.oracle;
  const before = oracle.violationCount;
  const r = f();
  const n = oracle.violationCount - before;
  if (n === 0) return r;
  const first = oracle.violations[Math.min(before, oracle.violations.length - 1)];
  return { ok: false, detail: `${r.detail}; the DMA oracle reported ${n} violation${n > 1 ? 's' : ''}${first ? `: ${first.message}` : ''}`, expected: 'no oracle violation' };
}

/** {"guest": "dma", "device": "e1", "bytes"?: 4096, "direction"?: "round-trip", "count"?: 1}: edu transfers through the DMA API. */
const dma: GuestAction = {
  name: 'dma',
  summary: 'DMA through an edu device with the guest\'s DMA API (map, transfer, unmap), data checked',
  params: {
    device: { type: 'string', required: true, help: 'the edu device (QEMU id or BDF)' },
    bytes: { type: 'integer', help: `bytes per transfer, 1 to ${EDU_DMA_BUF_SIZE} (default ${EDU_DMA_BUF_SIZE})` },
    direction: { type: 'string', choices: ['round-trip', 'to-device', 'from-device'], help: 'round-trip (default): RAM -> edu -> RAM, compared' },
    count: { type: 'integer', help: 'how many transfers (default 1)' },
  },
  run(ctx, args) {
    const d = guestDevice(ctx, args['device'] as string);
    if (failed(d)) return d;
    const k = ctx.kernel;
    const edu = k.drivers.drivers.find((x): x is EduDriver => x instanceof EduDriver);
    const dev = d.guest!;
    if (!edu || !edu.instances.has(dev)) {
      return { ok: false, detail: `${where(d)} is ${dev.driver ? `bound to ${dev.driver}` : 'not bound to a driver'}`, expected: 'a device bound to the edu driver' };
    }
    const len = (args['bytes'] as number | undefined) ?? EDU_DMA_BUF_SIZE;
    if (len < 1 || len > EDU_DMA_BUF_SIZE) return { ok: false, detail: `bytes ${len} is outside 1..${EDU_DMA_BUF_SIZE}`, expected: 'a transfer the edu buffer holds' };
    const count = Math.max(1, (args['count'] as number | undefined) ?? 1);
    const dir = (args['direction'] as string | undefined) ?? 'round-trip';
    return watched(ctx, () => {
      let moved = 0;
      for (let i = 0; i < count; i++) {
        const off = ctx.rng.below(PAGE_SIZE);
        const src = k.mem.alloc(off + len);
        const dst = k.mem.alloc(off + len);
        if (src === undefined || dst === undefined) return { ok: false, detail: 'out of guest memory' };
        const data = new Uint8Array(len);
        for (let b = 0; b < len; b++) data[b] = ctx.rng.next() & 0xff;
        k.port.writeBytes(src + off, data);
        k.port.writeBytes(dst + off, new Uint8Array(len));
        let ret = 0;
        if (dir !== 'from-device') ret = edu.transfer(dev, src + off, len, 'to-device');
        if (ret === 0 && dir !== 'to-device') ret = edu.transfer(dev, dst + off, len, 'from-device');
        let bad = -1;
        if (ret === 0 && dir === 'round-trip') {
          const back = new Uint8Array(len);
          k.port.readBytes(dst + off, back);
          bad = back.findIndex((v, j) => v !== data[j]);
        }
        k.mem.freePages(src, off + len);
        k.mem.freePages(dst, off + len);
        if (ret) return { ok: false, detail: `transfer ${i + 1} of ${count} failed: ${errnoName(ret)}`, expected: 'the transfer to complete' };
        if (bad >= 0) return { ok: false, detail: `transfer ${i + 1}: the data came back different at byte ${bad}`, expected: 'the same bytes back' };
        moved += dir === 'round-trip' ? 2 * len : len;
      }
      return { ok: true, detail: `${count} ${dir} transfer${count > 1 ? 's' : ''} with ${where(d)}, ${moved} bytes${dir === 'round-trip' ? ', data checked' : ''}` };
    });
  },
};

const ackUnplug: GuestAction = {
  name: 'ack-unplug',
  summary: 'acknowledge the pending unplug request of a slot: unbind, release from the IOMMU, power off (pseries: isolate the DRC)',
  params: { slot: { type: 'string', required: true, help: 'the hot-plug port (QEMU id such as "rp1", or BDF); on pseries the DRC ("C24") or its device' } },
  run(ctx, args) {
    const found = ctx.slot(args['slot'] as string);
    if (typeof found === 'string') return { ok: false, detail: found, expected: 'a hot-plug slot' };
    if (found.kind === 'spapr') {
      const drc = found.slot;
      const why = ctx.kernel.spaprHotplug!.acknowledge(drc);
      if (why) return { ok: false, detail: why, expected: `a removal pending on DRC ${drc.name}` };
      return { ok: true, detail: `DRC ${drc.name} (${drc.bdf}): removed, isolated` };
    }
    const slot = found.slot;
    const hp = ctx.kernel.pciehp;
    if (!hp) return { ok: false, detail: 'the guest has no PCIe hot-plug driver' };
    const below = slot.port.subordinate?.devices.map((f) => f.name) ?? [];
    const why = hp.acknowledge(slot);
    if (why) return { ok: false, detail: why, expected: `an unplug request pending on Slot(${slot.name})` };
    return { ok: true, detail: `Slot(${slot.name}) disabled: ${below.length ? below.join(', ') : 'no device'} removed, power off` };
  },
};

const rescan: GuestAction = {
  name: 'rescan',
  summary: 'read a slot\'s status and enable it if it is occupied and off (echo 1 > /sys/bus/pci/slots/N/power)',
  params: { slot: { type: 'string', required: true, help: 'the hot-plug port (QEMU id or BDF)' } },
  run(ctx, args) {
    const found = ctx.slot(args['slot'] as string);
    if (typeof found === 'string') return { ok: false, detail: found, expected: 'a hot-plug slot' };
    if (found.kind === 'spapr') return { ok: false, detail: `DRC ${found.slot.name}: a DRC is configured when its add event arrives; rescan is for PCIe slots`, expected: 'a PCIe hot-plug slot' };
    const slot = found.slot;
    const ret = ctx.kernel.pciehp?.rescan(slot) ?? -ENODEV;
    if (ret === -EEXIST) return { ok: true, detail: `Slot(${slot.name}) is already enabled` };
    if (ret) return { ok: false, detail: `Slot(${slot.name}) could not be enabled: ${errnoName(ret)}`, expected: 'an occupied slot to enable' };
    const below = slot.port.subordinate?.devices.map((f) => f.name) ?? [];
    return { ok: true, detail: `Slot(${slot.name}) enabled: ${below.join(', ')}` };
  },
};

const bindDriver: GuestAction = {
  name: 'bind-driver',
  summary: 'bind the guest\'s own driver to a device (the host driver after VFIO lets go)',
  params: { device: { type: 'string', required: true, help: 'the device (QEMU id or BDF)' } },
  run(ctx, args) {
    const d = guestDevice(ctx, args['device'] as string);
    if (failed(d)) return d;
    const dev = d.guest!;
    if (dev.driver) return { ok: true, detail: `${where(d)} is already bound to ${dev.driver}` };
    const ret = ctx.kernel.drivers.bind(dev);
    if (ret) return { ok: false, detail: `binding ${where(d)} failed: ${errnoName(ret)}`, expected: 'the driver to bind' };
    return { ok: true, detail: `${where(d)} bound to ${dev.driver ?? '?'}` };
  },
};

const unbindDriver: GuestAction = {
  name: 'unbind-driver',
  summary: 'unbind the driver of a device (echo BDF > /sys/bus/pci/drivers/NAME/unbind)',
  params: { device: { type: 'string', required: true, help: 'the device (QEMU id or BDF)' } },
  run(ctx, args) {
    const d = guestDevice(ctx, args['device'] as string);
    if (failed(d)) return d;
    const dev = d.guest!;
    const was = dev.driver;
    if (!was) return { ok: false, detail: `no driver is bound to ${where(d)}`, expected: 'a bound driver' };
    ctx.kernel.drivers.unbind(dev);
    return { ok: true, detail: `${where(d)} unbound from ${was}` };
  },
};

/**
 * The extension points issue 11 fills: `traffic` (packets through a
 * virtio-net device, vhost or emulated), `bind-vfio` and `unbind-vfio`
 * (hand a device to the VFIO passthrough model and back). Their names and
 * parameters are fixed here so scripts are checked now.
 */
export const PENDING_ACTIONS: readonly GuestAction[] = [
  pendingAction('traffic', 'send and receive packets through a virtio-net device', {
    device: { type: 'string', required: true, help: 'the virtio-net device (QEMU id or BDF)' },
    packets: { type: 'integer', help: 'how many packets' },
    direction: { type: 'string', choices: ['tx', 'rx', 'both'], help: 'which way (default both)' },
    bytes: { type: 'integer', help: 'bytes per packet' },
  }, ISSUE_11),
  pendingAction('bind-vfio', 'unbind the guest driver and give the device to the VFIO passthrough model', {
    device: { type: 'string', required: true, help: 'the device (QEMU id or BDF)' },
  }, ISSUE_11),
  pendingAction('unbind-vfio', 'take the device back from the VFIO passthrough model', {
    device: { type: 'string', required: true, help: 'the device (QEMU id or BDF)' },
  }, ISSUE_11),
];

/** The actions that work on main. */
export const BUILTIN_ACTIONS: readonly GuestAction[] = [ackUnplug, rescan, dma, bindDriver, unbindDriver];
