import { VfioPciBinding } from '../../guest/vfio/binding.js';
import type { ActionContext, ActionResult, GuestAction } from './actions.js';

function where(ctx: ActionContext, ref: string): { dev?: NonNullable<ReturnType<ActionContext['device']>['guest']>; name: string; fail?: ActionResult } {
  const d = ctx.device(ref);
  const name = d.bdf ? `${ref} (${d.bdf})` : ref;
  if (d.guest) return { dev: d.guest, name };
  return { name, fail: { ok: false, detail: d.machine ? `the guest has not enumerated ${name}` : `no device '${ref}' in the machine`, expected: `the guest to know ${ref}` } };
}

/** Runs `f` and fails the action if the DMA oracle reported a violation meanwhile. */
function watched(ctx: ActionContext, f: () => ActionResult): ActionResult {
  const o = ctx.kernel.oracle;
  const before = o.violationCount;
  const r = f();
  const n = o.violationCount - before;
  if (n === 0) return r;
  const first = o.violations[Math.min(before, o.violations.length - 1)];
  return { ok: false, detail: `${r.detail}; the DMA oracle reported ${n} violation${n > 1 ? 's' : ''}${first ? `: ${first.message}` : ''}`, expected: 'no oracle violation' };
}

/** {"guest": "bind-vfio", "device": "e1", "pages"?: 4, "transfers"?: 2}: the device to vfio-pci, a user maps and DMAs. */
export const bindVfio: GuestAction = {
  name: 'bind-vfio',
  summary: 'unbind the guest driver, bind vfio-pci; a VFIO user (type1 v2, or sPAPR TCE v2 on pseries) maps a buffer and DMAs through the device, data checked',
  params: {
    device: { type: 'string', required: true, help: 'the device (QEMU id or BDF); an edu-style DMA engine (edu, vfio-pci-model)' },
    pages: { type: 'integer', help: '4 KiB pages the user maps (default 4)' },
    transfers: { type: 'integer', help: 'round trips through the device (default 2)' },
  },
  run(ctx, args) {
    const w = where(ctx, args['device'] as string);
    if (w.fail) return w.fail;
    return watched(ctx, () => {
      const r = VfioPciBinding.bind(ctx.kernel, w.dev!, {
        pages: args['pages'] as number | undefined,
        transfers: (args['transfers'] as number | undefined) ?? 2,
        rng: () => ctx.rng.next(),
      });
      const how = r.binding?.containerKind ? ` (${r.binding.containerKind})` : '';
      if (r.ret) return { ok: false, detail: `vfio-pci on ${w.name}${how}: ${r.errors.join('; ')}`, expected: 'the VFIO user to map and DMA' };
      return { ok: true, detail: `${w.name} bound to vfio-pci${how}, ${r.ops} DMA transfers, ${r.bytes} bytes, data checked` };
    });
  },
};

/** {"guest": "unbind-vfio", "device": "e1", "rebind"?: false}: the user exits, vfio-pci lets go, optionally the host driver rebinds. */
export const unbindVfio: GuestAction = {
  name: 'unbind-vfio',
  summary: 'the VFIO user exits (container released with what it maps), vfio-pci lets go of the device; "rebind": true probes the host driver again',
  params: {
    device: { type: 'string', required: true, help: 'the device (QEMU id or BDF)' },
    rebind: { type: 'boolean', help: 'bind the host driver again afterwards (default false; or use bind-driver)' },
  },
  run(ctx, args) {
    const w = where(ctx, args['device'] as string);
    if (w.fail) return w.fail;
    const b = ctx.kernel.vfio.get(w.dev!);
    if (!b) return { ok: false, detail: `${w.name} is ${w.dev!.driver ? `bound to ${w.dev!.driver}` : 'not bound'}`, expected: 'a device bound to vfio-pci' };
    return watched(ctx, () => {
      const r = b.unbind(args['rebind'] === true);
      if (r.ret) return { ok: false, detail: `${w.name}: ${r.errors.join('; ')}`, expected: 'a clean release' };
      const now = w.dev!.driver;
      return { ok: true, detail: `${w.name} released by vfio-pci${args['rebind'] === true ? `, ${now ? `bound to ${now}` : 'no host driver bound'}` : ''}` };
    });
  },
};
