import { VirtualClock } from '../base/clock.js';
import { ConfigError } from '../base/config-error.js';
import { EventLog } from '../base/event-log.js';
import { Xorshift32 } from '../base/prng.js';
import type { SettlePoint } from '../base/settle-point.js';
import type { AddressSpace } from '../memory/address-space.js';
import { MemorySystem } from '../memory/memory-system.js';
import type { ContainerRegion, MmioRegion } from '../memory/region.js';
import type { PCIBus, PCIBusContext } from '../pci/bus.js';
import type { PCIDevice } from '../pci/device.js';
import type { Board, BoardDescription, BoardType } from './boards/board.js';
import { BOARD_TYPES, findBoardType } from './boards/index.js';
import type { MachineConfig } from './config.js';
import { addDevice, type AnyDevice } from './device-add.js';
import { deviceIommus, describePciDevice } from './describe-devices.js';
import { FirmwareHandOff } from './firmware/hand-off.js';
import { cpuSettlePoint } from './cpu-settle.js';
import { MachineGuestPort } from './guest-port.js';
import type { GuestPort } from '../guest/port.js';
import type { DeviceSpec } from './config.js';
import type { DeviceRegistry, SystemDevice } from './device-registry.js';
import { defaultDeviceRegistry } from './devices/index.js';
import { parseProp, PropError, Props, type PropValue } from './properties.js';
import { parseSize, SIZE_ERROR_HINT } from './size.js';

const SIZE_2_64 = 1n << 64n;
const ACPI_HOTPLUG_GLOBAL = 'ICH9-LPC.acpi-pci-hotplug-with-bridge-support';
type PropValueRaw = string | number | boolean;

/**
 * A machine: the single owner of its devices' lifecycles (the device
 * manager). It holds the memory system with the "system" and "io" roots,
 * the virtual clock, the event log, the seeded PRNG, the board (buses,
 * host bridges, interrupt lines) and the devices by id. Build one from a
 * MachineConfig (JSON or a QEMU command line); it comes out reset.
 */
export class Machine {
  readonly mem = new MemorySystem();
  readonly clock = new VirtualClock();
  readonly log: EventLog;
  readonly rng: Xorshift32;
  /** The "system" container and address_space_memory ("memory"). */
  readonly systemMemory: ContainerRegion;
  readonly systemAs: AddressSpace;
  /** Where work on backend threads (vhost workers) is completed: CPU accesses, time passing, reset (cpu-settle.ts). */
  readonly settlePoint: SettlePoint;
  /** The "io" root (unassigned reads all-ones, as QEMU's unassigned_io_ops) and address_space_io ("I/O"). */
  readonly ioRoot: MmioRegion;
  readonly ioAs: AddressSpace;
  readonly boardType: BoardType;
  readonly props: Props;
  readonly ramSize: number;
  readonly board: Board;
  /** Every device the machine added from the config or later, in order. */
  readonly devices: AnyDevice[] = [];
  /** Devices on the system bus (vIOMMUs), reset with the machine. */
  readonly systemDevices: SystemDevice[] = [];
  /** Devices that have an id. */
  readonly devicesById = new Map<string, AnyDevice>();
  /** MSI writes that reached the platform's MSI doorbell. */
  private readonly msiListeners: ((address: bigint, data: number) => void)[] = [];
  private readonly chassisSlots = new Set<string>();
  private readonly busIds = new Map<string, number>();
  private pciCtx: PCIBusContext | undefined;
  /** Where device models' printf() output goes (QEMU's stdout); viommu-system points it at stdout. */
  console: (text: string) => void = () => undefined;
  /**
   * Firmware hand-off: the fw_cfg device with the ACPI files (q35, virt) and
   * the flattened device tree (virt, pseries), attached once the
   * cold-plugged devices are in (QEMU's machine-done).
   */
  readonly firmware = new FirmwareHandOff();
  /** QMP run state: prelaunch with -S until cont, paused after stop (no CPU: nothing else changes). */
  runState: 'prelaunch' | 'running' | 'paused' | 'shutdown';
  /** QOM paths of added devices: /machine/peripheral/ID or /machine/peripheral-anon/device[N]. */
  readonly qomPaths = new Map<AnyDevice, string>();
  private anonDevices = 0;
  /** What `info iommu` prints: each vIOMMU registers itself here. */
  readonly iommuInfo: { readonly name: string; info(): string }[] = [];
  /** Set once the cold-plugged devices are in (later device_add calls are hot-plugs). */
  created = false;
  private readonly eventSinks: ((event: string, data?: Record<string, unknown>) => void)[] = [];
  private readonly addedListeners: ((dev: AnyDevice) => void)[] = [];

  private constructor(readonly config: MachineConfig, readonly registry: DeviceRegistry) {
    this.log = new EventLog(this.clock);
    this.rng = new Xorshift32(config.seed);
    this.runState = config.startPaused ? 'prelaunch' : 'running';
    this.boardType = resolveBoardType(config.machine.type);
    this.props = resolveMachineProps(this.boardType, config.machine.props);
    this.ramSize = resolveRamSize(this.boardType, config.memory);
    this.systemMemory = this.mem.container('system', SIZE_2_64);
    this.systemAs = this.mem.addressSpace(this.systemMemory, 'memory');
    this.settlePoint = cpuSettlePoint(this.systemAs);
    this.ioRoot = this.mem.mmio('io', 0x10000, { read: () => 0xffffffff, write: () => undefined });
    this.ioAs = this.mem.addressSpace(this.ioRoot, 'I/O');
    this.board = this.boardType.build(this, this.props);
    this.checkGlobals();
  }

  /** Every -global names a driver viommu has (or the q35 hot-plug switch). */
  private checkGlobals(): void {
    for (const k of Object.keys(this.config.globals)) {
      if (k === ACPI_HOTPLUG_GLOBAL && this.boardType.pcieHotplug === 'acpi') continue;
      const driver = k.slice(0, k.indexOf('.'));
      if (!this.registry.get(driver)) throw new ConfigError(`-global ${k}`, `global ${k} has invalid class name`);
    }
  }

  /** Builds, populates and resets a machine. Throws ConfigError for a bad config. */
  static create(config: MachineConfig, registry: DeviceRegistry = defaultDeviceRegistry()): Machine {
    const m = new Machine(config, registry);
    for (const spec of config.devices) m.addDevice(spec);
    m.firmware.attach(m);
    m.created = true;
    m.reset();
    return m;
  }

  get boardName(): string {
    return this.board.name;
  }
  get bigEndian(): boolean {
    return this.boardType.bigEndian;
  }
  get rootBus(): PCIBus {
    return this.board.rootBus;
  }

  /**
   * Who handles hot-plug below root ports. viommu models PCIe native
   * hot-plug only, so q35 defaults to it, as QEMU does with
   * `-global ICH9-LPC.acpi-pci-hotplug-with-bridge-support=off` (and as
   * pc-q35-6.0 and older did); giving that global as `on` reproduces QEMU
   * 7.2's register state for functions present at start (no Presence
   * Detect), but no ACPI hot-plug.
   */
  get pcieHotplug(): 'native' | 'acpi' {
    if (this.boardType.pcieHotplug === 'native') return 'native';
    const g = this.config.globals[ACPI_HOTPLUG_GLOBAL];
    return g === true || g === 'on' || g === 'true' || g === 'yes' ? 'acpi' : 'native';
  }

  /** -global defaults for a driver's properties. */
  globalsFor(driver: string): Record<string, PropValueRaw> {
    const out: Record<string, PropValueRaw> = {};
    for (const [k, v] of Object.entries(this.config.globals)) {
      if (k.startsWith(`${driver}.`)) out[k.slice(driver.length + 1)] = v;
    }
    return out;
  }

  /** The context PCI functions of this machine share. */
  get pciContext(): PCIBusContext {
    if (!this.pciCtx) {
      this.pciCtx = {
        mem: this.mem, clock: this.clock, log: this.log, systemMemory: this.systemAs, settle: this.settlePoint,
        allowZeroBar: this.boardType.allowZeroBar, targetBigEndian: this.boardType.bigEndian,
        console: (text) => this.console(text),
        claimChassisSlot: (c, s) => {
          const k = `${c}/${s}`;
          if (this.chassisSlots.has(k)) return false;
          this.chassisSlots.add(k);
          return true;
        },
        releaseChassisSlot: (c, s) => void this.chassisSlots.delete(`${c}/${s}`),
        autoBusName: (kind) => {
          const n = this.busIds.get(kind) ?? 0;
          this.busIds.set(kind, n + 1);
          return `${kind}.${n}`;
        },
        deviceUnplugged: (dev) => this.forgetDevice(dev),
      };
    }
    return this.pciCtx;
  }

  /** A device added after creation (QMP device_add uses this); the caller resets it if needed. */
  addDevice(spec: DeviceSpec): AnyDevice {
    const dev = addDevice(this, spec);
    this.qomPaths.set(dev, dev.id !== undefined ? `/machine/peripheral/${dev.id}` : `/machine/peripheral-anon/device[${this.anonDevices++}]`);
    for (const f of this.addedListeners) f(dev);
    return dev;
  }

  /** Called for every device added from now on (cold or hot). */
  onDeviceAdded(f: (dev: AnyDevice) => void): void {
    this.addedListeners.push(f);
  }

  /** A device that went away (unplug): dropped from the lists, DEVICE_DELETED sent (qdev finalize). */
  private forgetDevice(dev: AnyDevice): void {
    const i = this.devices.indexOf(dev);
    if (i >= 0) this.devices.splice(i, 1);
    if (dev.id !== undefined && this.devicesById.get(dev.id) === dev) this.devicesById.delete(dev.id);
    const path = this.qomPaths.get(dev);
    this.qomPaths.delete(dev);
    if (path === undefined) return;
    // virtio-*-pci: the backend child is finalized first, with no "device" key.
    const children = (dev as { qomChildren?: () => string[] }).qomChildren?.() ?? [];
    for (const c of children) this.emitEvent('DEVICE_DELETED', { path: `${path}/${c}` });
    this.emitEvent('DEVICE_DELETED', dev.id !== undefined ? { device: dev.id, path } : { path });
  }

  /** Machine events for QMP (DEVICE_DELETED, STOP, RESUME, SHUTDOWN...). */
  onEvent(sink: (event: string, data?: Record<string, unknown>) => void): void {
    this.eventSinks.push(sink);
  }
  emitEvent(event: string, data?: Record<string, unknown>): void {
    for (const s of this.eventSinks) s(event, data);
  }

  /** The synthetic guest's interface to this machine. */
  guestPort(): GuestPort {
    return new MachineGuestPort(this);
  }

  /** Every PCI function, root bus first, depth first. */
  pciDevices(): PCIDevice[] {
    return [...this.rootBus.allDevices()];
  }

  /** A PCI bus by its QEMU name (bus= property). */
  findPciBus(name: string): PCIBus | undefined {
    return this.rootBus.findBusByName(name);
  }

  // Interrupt delivery.
  onMsi(f: (address: bigint, data: number) => void): void {
    this.msiListeners.push(f);
  }
  /** Called by the platform's MSI doorbell (q35 apic-msi, virt GICv2m, sPAPR MSI window). */
  deliverMsi(address: bigint, data: number): void {
    for (const f of this.msiListeners) f(address, data);
  }

  /** Completes the work backend threads have in flight (a quiescing point: the guest looks, time passes, a monitor reads state). */
  settle(): void {
    this.settlePoint.settle();
  }

  /** System reset: the board, every PCI function (bridges before what is below them), the INTx counts. */
  reset(): void {
    this.settle();
    this.mem.transaction(() => {
      this.board.reset();
      for (const d of this.pciDevices()) d.reset();
      this.rootBus.resetIrqs();
      this.board.afterDeviceReset?.();
      for (const d of this.systemDevices) d.reset();
    });
    this.firmware.reset();
  }

  /**
   * Plain data for firmware builders (firmware/from-board.ts): memory
   * ranges, PCI hosts, interrupts, devices with the BDFs and bus numbers
   * programmed now, and the vIOMMUs the board and devices report.
   */
  describe(): BoardDescription {
    const base = this.board.describe();
    const pci = this.pciDevices();
    return {
      ...base,
      board: this.board.name,
      machineType: this.boardType.qomType.replace(/-machine$/, ''),
      bigEndian: this.bigEndian,
      devices: pci.map(describePciDevice),
      iommus: [...(base.iommus ?? []), ...deviceIommus(this.systemDevices, pci)],
    };
  }
}

function resolveBoardType(name: string): BoardType {
  const t = findBoardType(name);
  if (!t) {
    const hint = ConfigError.didYouMean(name, BOARD_TYPES.flatMap((b) => b.names));
    throw new ConfigError('', 'unsupported machine type\nUse -machine help to list supported machines', undefined, hint);
  }
  return t;
}

function resolveMachineProps(t: BoardType, raw: Readonly<Record<string, string | number | boolean>>): Props {
  const values = new Map<string, PropValue>();
  for (const d of t.props) if (d.default !== undefined) values.set(d.name, d.default);
  for (const [k, v] of Object.entries(raw)) {
    const d = t.props.find((p) => p.name === k);
    if (!d) throw new ConfigError('', `Property '${t.qomType}.${k}' not found`, undefined, ConfigError.didYouMean(k, t.props.map((p) => p.name)));
    try {
      values.set(k, parseProp(t.qomType, d, v));
    } catch (e) {
      if (e instanceof PropError) throw new ConfigError('', e.message);
      throw e;
    }
  }
  return new Props(values);
}

function resolveRamSize(t: BoardType, memory: string | number | undefined): number {
  let size = t.defaultRamSize;
  if (memory !== undefined) {
    const text = typeof memory === 'number' ? String(memory) : memory;
    const p = parseSize(text, 'M');
    if (!p) throw new ConfigError(`-m ${text}`, SIZE_ERROR_HINT);
    if (p.value !== 0n) {
      if (p.value > BigInt(Number.MAX_SAFE_INTEGER)) throw new ConfigError('', "cannot set up guest memory 'ram': Cannot allocate memory");
      size = Number(p.value);
    }
  }
  const err = t.checkRam?.(size);
  if (err) throw new ConfigError('', err);
  return size;
}

export { BOARD_TYPES };
