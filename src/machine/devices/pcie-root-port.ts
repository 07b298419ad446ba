import { PCIeRootPort } from '../../pci/root-port.js';
import { PCIE_LINK_SPEEDS, PCIE_LINK_WIDTHS } from '../../pci/pcie-regs.js';
import type { PCIDeviceType } from '../device-registry.js';
import { PropError } from '../properties.js';

/** `-device pcie-root-port,chassis=C,slot=S,port=P` (QEMU gen_pcie_root_port.c). */
export const pcieRootPortType: PCIDeviceType = {
  driver: 'pcie-root-port',
  desc: 'PCI Express Root Port',
  bus: 'pci',
  props: [
    { name: 'chassis', type: { kind: 'uint', bits: 8 }, default: 0n },
    { name: 'slot', type: { kind: 'uint', bits: 16 }, default: 0n },
    { name: 'port', type: { kind: 'uint', bits: 8 }, default: 0n },
    { name: 'hotplug', type: { kind: 'bool' }, default: true },
    { name: 'power_controller_present', type: { kind: 'bool' }, default: true, desc: 'on/off' },
    { name: 'disable-acs', type: { kind: 'bool' }, default: false },
    { name: 'x-speed', type: { kind: 'enum', values: Object.keys(PCIE_LINK_SPEEDS) }, default: '16', desc: '2_5/5/8/16' },
    { name: 'x-width', type: { kind: 'enum', values: Object.keys(PCIE_LINK_WIDTHS) }, default: '32', desc: '1/2/4/8/12/16/32' },
  ],
  unsupported: ['bus-reserve', 'io-reserve', 'mem-reserve', 'pref32-reserve', 'pref64-reserve', 'aer_log_max', 'x-migrate-msix', 'x-native-hotplug'],
  create(p, host) {
    if (host.boardName === 'pseries') throw new PropError('PCI Bridge lacks a "chassis_nr" property\nTry -device pci-bridge instead.');
    return new PCIeRootPort({
      chassis: p.num('chassis'), slot: p.num('slot'), port: p.num('port'), hotplug: p.bool('hotplug'),
      powerControllerPresent: p.bool('power_controller_present'), disableAcs: p.bool('disable-acs'),
      speed: PCIE_LINK_SPEEDS[p.str('x-speed')!]!, width: PCIE_LINK_WIDTHS[p.str('x-width')!]!,
      hotplugHandler: host.pcieHotplug,
    });
  },
};
