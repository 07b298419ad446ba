import { formatLogLine } from '../../base/event-log.js';
import { Xorshift32 } from '../../base/prng.js';
import { bootGuestKernel } from '../../guest/boot.js';
import type { GuestKernel } from '../../guest/kernel.js';
import { DmaOracle } from '../../guest/oracle/oracle.js';
import { bdfName } from '../../guest/pci-core/regs.js';
import { installDmaTap } from '../../machine/dma-tap.js';
import { Machine } from '../../machine/machine.js';
import { MachineQmpBackend } from '../../machine/qmp-backend.js';
import { QmpServer } from '../../machine/qmp/server.js';
import { PCIDevice } from '../../pci/device.js';
import type { ActionContext, DeviceRef, HotplugSlot } from './actions.js';
import type { HeaderBoot } from './header.js';
import { InProcessQmp } from './qmp-client.js';

const BDF = /^(?:([0-9a-f]{4}):)?([0-9a-f]{2}):([0-9a-f]{2})\.([0-7])$/i;

/**
 * A booted machine with the synthetic guest on it, the DMA oracle tapped
 * into every device, and a negotiated in-process QMP client: what a script
 * runs against. Names in scripts (QEMU ids, BDFs) resolve here on both
 * sides, and virtual time moves only through advance().
 */
export class HotplugSession implements ActionContext {
  readonly kernel: GuestKernel;
  readonly oracle: DmaOracle;
  readonly qmp = new InProcessQmp();
  readonly rng: Xorshift32;
  quitRequested = false;

  /** Boots the guest on a freshly created machine; throws ConfigError for bad boot options. */
  constructor(readonly machine: Machine, boot: HeaderBoot, seed: number) {
    const port = this.machine.guestPort();
    this.oracle = new DmaOracle(() => port.now(), port.log);
    installDmaTap(this.machine, this.oracle);
    this.kernel = bootGuestKernel(port, { ...boot, seed, oracle: this.oracle, workloads: [] }).kernel;
    this.rng = new Xorshift32(seed).fork('hotplug-script');
    const server = new QmpServer(new MachineQmpBackend(this.machine), () => {
      this.quitRequested = true;
    });
    server.attach(this.qmp);
    this.qmp.execute({ execute: 'qmp_capabilities' });
    this.runGuest();
  }

  get now(): number {
    return this.machine.clock.now;
  }

  /** Lets the guest run what is due now (its IRQ threads, timers). */
  runGuest(): void {
    this.kernel.clock.runDue();
  }

  /**
   * Advances virtual time to `target`, stopping early when `stop()` holds.
   * Machine and guest timers fire at their own deadlines on the way, and
   * `stop` is asked after each. Returns whether it stopped early.
   */
  advance(target: number, stop: () => boolean = () => false): boolean {
    for (;;) {
      this.runGuest();
      if (stop()) return true;
      const now = this.now;
      if (now >= target) return false;
      const next = Math.min(target, this.machine.clock.nextDeadline() ?? Infinity, this.kernel.clock.nextDeadline() ?? Infinity);
      this.kernel.clock.sleep(Math.max(0, next - now));
    }
  }

  device(ref: string): DeviceRef {
    let dev: PCIDevice | undefined;
    const byId = this.machine.devicesById.get(ref);
    let bus: number | undefined;
    let devfn: number | undefined;
    if (byId instanceof PCIDevice) {
      dev = byId;
      bus = dev.bus.number;
      devfn = dev.devfn;
    } else {
      const m = BDF.exec(ref);
      if (m) {
        bus = parseInt(m[2]!, 16);
        devfn = (parseInt(m[3]!, 16) << 3) | parseInt(m[4]!, 16);
        dev = this.machine.pciDevices().find((d) => d.bus.number === bus && d.devfn === devfn);
      }
    }
    const guest = bus === undefined ? undefined : this.kernel.devices.find((d) => d.pci && d.pci.busNumber === bus && d.pci.devfn === devfn);
    return { ref, machine: dev, guest, bdf: bus === undefined || devfn === undefined ? undefined : bdfName(0, bus, devfn) };
  }

  slot(ref: string): HotplugSlot | string {
    const d = this.device(ref);
    const drcs = this.kernel.spaprHotplug;
    if (drcs) {
      const drc = drcs.slotByRef(ref) ?? (d.bdf === undefined ? undefined : drcs.slotByRef(d.bdf));
      if (drc) return { kind: 'spapr', slot: drc };
      const taken = drcs.slots.filter((x) => x.state !== 'empty').map((x) => `${x.name} (${x.bdf})`);
      return `no DRC for '${ref}' (a DRC name such as C24, its index, or a device's id or BDF); DRCs in use: ${taken.length ? taken.join(', ') : 'none'}`;
    }
    const hp = this.kernel.pciehp;
    if (!hp) return 'the guest has no PCIe hot-plug driver';
    const fn = d.bdf === undefined ? undefined : this.kernel.pci?.functions.find((f) => f.name === d.bdf);
    const slot = fn ? hp.slotOf(fn) : undefined;
    if (slot) return { kind: 'pciehp', slot };
    const known = hp.slots.map((s) => {
      const port = this.machine.pciDevices().find((p) => p.bus.number === s.port.busNumber && p.devfn === s.port.devfn);
      return `${port?.id ?? s.port.name} (Slot(${s.name}))`;
    });
    const what = d.machine ? `${ref} (${d.bdf}) is not a hot-plug port the guest drives` : `no device '${ref}'`;
    return `${what}; hot-plug slots: ${known.length ? known.join(', ') : 'none'}`;
  }

  /** The machine's and the guest's log, dmesg style, from `from` (a line index) on. */
  logLines(from = 0): string[] {
    return this.machine.log.lines.slice(from).map(formatLogLine);
  }

  /** A human monitor command through QMP, with "\n" line ends. */
  hmp(command: string): string {
    const r = this.qmp.execute({ execute: 'human-monitor-command', arguments: { 'command-line': command } });
    const ret = r.value['return'];
    return typeof ret === 'string' ? ret.replace(/\r\n/g, '\n') : `(error: ${r.text})`;
  }
}
