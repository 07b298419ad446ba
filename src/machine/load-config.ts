import { readFileSync } from 'node:fs';
import { ConfigError } from '../base/config-error.js';
import { parseCmdline } from './cmdline.js';
import { configFromJson, defaultConfig, type MachineConfig } from './config.js';

/**
 * The machine `viommu boot` builds when given nothing: q35 with intel-iommu,
 * an edu, a vhost virtio-net (vhost=on, iommu_platform=on, ats=on) behind a
 * PCIe root port and an emulated virtio-net (iommu_platform=on).
 */
export function defaultBootConfig(): MachineConfig {
  const c = defaultConfig('q35');
  return {
    ...c,
    devices: [
      { driver: 'intel-iommu', props: { 'device-iotlb': 'on' }, origin: 'default intel-iommu', json: true },
      { driver: 'edu', props: {}, origin: 'default edu', json: true },
      { driver: 'pcie-root-port', props: { id: 'rp0', chassis: '1' }, origin: 'default pcie-root-port', json: true },
      { driver: 'virtio-net-pci', props: { id: 'net0', bus: 'rp0', vhost: 'on', iommu_platform: 'on', ats: 'on' }, origin: 'default vhost virtio-net', json: true },
      { driver: 'virtio-net-pci', props: { id: 'net1', iommu_platform: 'on', mac: '52:54:00:12:34:57' }, origin: 'default emulated virtio-net', json: true },
    ],
  };
}

/**
 * A machine config from `viommu` command arguments: nothing (the default
 * machine), a JSON file, or `-- QEMU-ARGS...`.
 */
export function loadMachineConfig(args: readonly string[]): MachineConfig {
  if (args.length === 0) return defaultBootConfig();
  if (args[0] === '--') return parseCmdline(args.slice(1)).config;
  if (args.length > 1) throw new ConfigError(args[1]!, 'unexpected argument (give a config file, or QEMU options after --)');
  const file = args[0]!;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError(file, `cannot read config: ${(e as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ConfigError(file, `not valid JSON: ${(e as Error).message}`);
  }
  return configFromJson(json);
}
