import { ConfigError } from '../base/config-error.js';
import type { PCIDevice } from '../pci/device.js';
import { parseProp, PropError, Props, type PropDef, type PropValue, type RawValue } from './properties.js';

/** What a device type's factory may use (the machine that will own the device). */
export interface DeviceHost {
  /** The board name ('q35' | 'virt' | 'pseries'). */
  readonly boardName: string;
  /** Who handles hot-plug below PCIe ports on this board (q35: ACPI by default, as QEMU 7.2). */
  readonly pcieHotplug: 'native' | 'acpi';
  /** The platform's MSI doorbell (q35 0xfee00000, virt GICv2m): a vIOMMU reports it as an MSI reserved region. */
  readonly msiWindow?: { readonly base: number; readonly size: number };
  /** Where a vIOMMU registers itself for `info iommu` (Machine.iommuInfo). */
  readonly iommuInfo?: { readonly name: string; info(): string }[];
  /** False once the machine runs (a device_add is a hot-plug). */
  readonly coldPlug?: boolean;
}

/** A device that sits on the system bus rather than PCI (vIOMMUs, later). */
export interface SystemDevice {
  readonly typeName: string;
  id: string | undefined;
  reset(): void;
  unrealize?(): void;
}

interface DeviceTypeBase {
  /** The QEMU driver (QOM type) name, e.g. "edu". */
  readonly driver: string;
  readonly desc: string;
  /** Properties of this type (the generic ones of its bus are added by the registry). */
  readonly props: readonly PropDef[];
  /** QEMU properties viommu knows but does not implement: refused with a clear message. */
  readonly unsupported?: readonly string[];
}

export interface PCIDeviceType extends DeviceTypeBase {
  readonly bus: 'pci';
  create(props: Props, host: DeviceHost): PCIDevice;
}

export interface SystemDeviceType<M = unknown> extends DeviceTypeBase {
  readonly bus: 'system';
  /** Builds and attaches the device to the machine (MMIO, IOMMU hooks). */
  create(props: Props, machine: M): SystemDevice;
}

export type DeviceType = PCIDeviceType | SystemDeviceType;

/** Properties every PCI function has (hw/pci/pci.c pci_props, qdev bus/id). */
export const PCI_COMMON_PROPS: readonly PropDef[] = [
  { name: 'addr', type: { kind: 'pci-devfn' }, desc: 'Slot and optional function number, example: 06.0 or 06' },
  { name: 'multifunction', type: { kind: 'bool' }, default: false, desc: 'on/off' },
];

/** Generic QEMU PCI properties that viommu does not implement. */
export const PCI_UNSUPPORTED_PROPS: readonly string[] = [
  'romfile', 'romsize', 'rombar', 'acpi-index', 'failover_pair_id', 'x-pcie-extcap-init', 'x-pcie-lnksta-dllla',
];

/**
 * Device types by QEMU driver name. Adding a type is one registration: a
 * driver name, its typed properties (with defaults) and a factory. The
 * registry parses -device / JSON properties into typed values with QEMU's
 * error messages.
 */
export class DeviceRegistry {
  private readonly types = new Map<string, DeviceType>();

  register(t: DeviceType): void {
    if (this.types.has(t.driver)) throw new Error(`device type '${t.driver}' registered twice`);
    this.types.set(t.driver, t);
  }

  get(driver: string): DeviceType | undefined {
    return this.types.get(driver);
  }

  /** qdev_device_add's lookup: QEMU's message for an unknown driver. */
  lookup(driver: string): DeviceType {
    const t = this.types.get(driver);
    if (!t) throw new PropError(`'${driver}' is not a valid device model name`, ConfigError.didYouMean(driver, this.names()));
    return t;
  }

  names(): string[] {
    return [...this.types.keys()].sort();
  }

  /** Every property of a type, generic ones first. */
  propsOf(t: DeviceType): readonly PropDef[] {
    return t.bus === 'pci' ? [...PCI_COMMON_PROPS, ...t.props] : t.props;
  }

  /**
   * Parses raw values (bus and id are handled by the machine) into typed
   * properties with defaults. Throws PropError with QEMU's text.
   */
  resolve(t: DeviceType, raw: Readonly<Record<string, RawValue>>): Props {
    const defs = new Map(this.propsOf(t).map((d) => [d.name, d]));
    const values = new Map<string, PropValue>();
    for (const d of defs.values()) if (d.default !== undefined) values.set(d.name, d.default);
    for (const [k, v] of Object.entries(raw)) {
      const d = defs.get(k);
      if (!d) {
        const unsupported = t.unsupported?.includes(k) || (t.bus === 'pci' && PCI_UNSUPPORTED_PROPS.includes(k));
        if (unsupported) throw new PropError(`Property '${t.driver}.${k}' is not supported by viommu`);
        throw new PropError(`Property '${t.driver}.${k}' not found`, ConfigError.didYouMean(k, [...defs.keys()]));
      }
      values.set(k, parseProp(t.driver, d, v));
    }
    return new Props(values);
  }

  /** `-device DRIVER,help`: QEMU's listing format. */
  help(t: DeviceType): string {
    const lines = [`${t.driver} options:`];
    for (const d of [...this.propsOf(t)].sort((a, b) => a.name.localeCompare(b.name))) {
      const ty = d.type.kind === 'uint' ? `uint${d.type.bits}` : d.type.kind === 'int' ? `int${d.type.bits}`
        : d.type.kind === 'pci-devfn' ? 'int32' : d.type.kind === 'enum' ? d.type.values.join('/') : d.type.kind === 'string' ? 'str' : d.type.kind;
      const dflt = d.default === undefined ? '' : ` (default: ${typeof d.default === 'boolean' ? String(d.default) : String(d.default)})`;
      lines.push(`  ${`${d.name}=<${ty}>`.padEnd(22)} - ${d.desc ?? ''}${dflt}`.trimEnd());
    }
    return lines.join('\n') + '\n';
  }
}
