import t from 'tap';
import { ConfigError } from '../../../src/base/index.js';
import { vtdMachine } from './helpers.js';

// intel-iommu properties refused at realize (QEMU 7.2 vtd_decide_config texts,
// checked against Debian's qemu-system-x86_64 7.2.22), and the one viommu adds:
// x-scalable-mode is refused with a clear message (legacy tables only).

t.test('refused configurations: QEMU 7.2\'s messages; x-scalable-mode=on refused by viommu', async (t) => {
  const cases: [string, RegExp][] = [
    ['aw-bits=40', /Supported values for aw-bits are: 39, 48$/],
    ['eim=on', /eim=on requires accel=kvm,kernel-irqchip=split$/],
    ['x-pasid-mode=on', /Need to set scalable mode for PASID$/],
    ['x-scalable-mode=on', /scalable mode is not supported by viommu .*use x-scalable-mode=off/],
  ];
  for (const [props, msg] of cases) {
    let err: unknown;
    try {
      vtdMachine(props);
    } catch (e) {
      err = e;
    }
    t.ok(err instanceof ConfigError, `${props}: a ConfigError`);
    t.match((err as Error).message, msg, props);
  }
  const ok = vtdMachine('x-scalable-mode=off,aw-bits=48');
  t.equal(ok.r64(0x08) >> 8n & 0x1fn, 0x6n, 'x-scalable-mode=off, aw-bits=48: SAGAW 39|48');
});
