import t from 'tap';
import { EPROBE_DEFER } from '../../src/guest/errno.js';
import {
  IOMMU_DOMAIN_DMA, IOMMU_DOMAIN_DMA_FQ, IOMMU_DOMAIN_IDENTITY, IOMMU_DOMAIN_PLATFORM, domainTypeName,
} from '../../src/guest/iommu-core/domain-types.js';
import { coreSetup } from './fake/soft-iommu.js';

/** Adds every device (deferred: no instance yet), then registers the instance, as Linux's bus_iommu_probe does at boot. */
function boot(s: ReturnType<typeof coreSetup>): void {
  for (const d of s.devs) s.core.addDevice(d);
  s.core.registerInstance(s.drv.instance);
}
const typeOf = (s: ReturnType<typeof coreSetup>, n: string): string | undefined => {
  const d = s.core.groupOf(s.dev(n))?.defaultDomain;
  return d ? domainTypeName(d.type) : undefined;
};

t.test('with no driver opinion the global default decides: strict DMA, lazy DMA-FQ, passthrough identity', async (t) => {
  for (const [type, name] of [[IOMMU_DOMAIN_DMA, 'DMA'], [IOMMU_DOMAIN_DMA_FQ, 'DMA-FQ'], [IOMMU_DOMAIN_IDENTITY, 'identity']] as const) {
    const s = coreSetup({ defaultDomainType: type });
    boot(s);
    t.equal(typeOf(s, 'ep'), name);
    t.equal(s.core.groupOf(s.dev('ep'))!.domain, s.core.groupOf(s.dev('ep'))!.defaultDomain, 'the default domain is attached');
  }
});

t.test('conflicting def_domain_type inside a group: Linux logs it and IDENTITY takes precedence', async (t) => {
  for (const order of [['mf0', 'mf1'], ['mf1', 'mf0']]) {
    const s = coreSetup();
    s.drv.opinion = (d) => (d === s.dev(order[0]!) ? IOMMU_DOMAIN_DMA : d === s.dev(order[1]!) ? IOMMU_DOMAIN_IDENTITY : 0);
    boot(s);
    t.equal(s.core.groupOf(s.dev('mf0')), s.core.groupOf(s.dev('mf1')), 'multi-function without ACS: one group');
    t.equal(typeOf(s, 'mf0'), 'identity');
    const g = s.core.groupOf(s.dev('mf0'))!;
    const line = s.log.grep(/conflicting def_domain_type/)[0];
    t.ok(line, 'the conflict is logged');
    t.match(line!.text, new RegExp(`IOMMU driver error, requesting conflicting def_domain_type, (Translated and Passthrough|Passthrough and Translated), for devices in group ${g.id}\\.`));
  }
  const s = coreSetup();
  s.drv.opinion = (d) => (d === s.dev('mf0') ? IOMMU_DOMAIN_DMA : d === s.dev('mf1') ? IOMMU_DOMAIN_DMA_FQ : 0);
  boot(s);
  t.equal(typeOf(s, 'mf0'), 'DMA', 'between two translated opinions the first one stays');
});

t.test('a static PLATFORM default domain is the driver\'s opinion (83b3836bf83f), also without CONFIG_IOMMU_DMA', async (t) => {
  for (const iommuDma of [true, false]) {
    const s = coreSetup({ staticPlatform: true, iommuDma });
    boot(s);
    t.equal(typeOf(s, 'ep'), 'platform', `iommuDma=${iommuDma}`);
    t.equal(s.core.groupOf(s.dev('ep'))!.defaultDomain, s.drv.defaultDomain);
  }
});

t.test('the pre-83b3836bf83f core: !CONFIG_IOMMU_DMA asks for IDENTITY, the static PLATFORM domain refuses, no group', async (t) => {
  const s = coreSetup({ staticPlatform: true, iommuDma: false, regress: ['pre-83b3836bf83f'] });
  boot(s);
  t.equal(s.core.groupOf(s.dev('ep')), undefined, 'the device ends up with no IOMMU group (vfio-pci cannot bind)');
  t.ok(s.log.grep(/no default domain \(-22 \(EINVAL\)\)/).length > 0);
  const ok = coreSetup({ staticPlatform: true, iommuDma: true, regress: ['pre-83b3836bf83f'] });
  boot(ok);
  t.equal(typeOf(ok, 'ep'), 'platform', 'with CONFIG_IOMMU_DMA the old code happened to work');
});

t.test('an untrusted device forces DMA; a driver insisting on identity for it makes the group fail', async (t) => {
  const s = coreSetup({ defaultDomainType: IOMMU_DOMAIN_IDENTITY });
  s.dev('ep').pci!.untrusted = true;
  boot(s);
  t.equal(typeOf(s, 'ep'), 'DMA');
  t.equal(typeOf(s, 'mf0'), 'identity');
  const bad = coreSetup();
  bad.dev('ep').pci!.untrusted = true;
  bad.drv.opinion = () => IOMMU_DOMAIN_IDENTITY;
  boot(bad);
  t.equal(bad.core.groupOf(bad.dev('ep')), undefined);
  t.ok(bad.log.grep(/Device is not trusted, but driver is overriding group \d+ to Passthrough, refusing to probe\./).length);
});

t.test('a default type the driver cannot allocate falls back to DMA with the warning', async (t) => {
  const s = coreSetup({ defaultDomainType: IOMMU_DOMAIN_IDENTITY });
  s.drv.refuse.add(IOMMU_DOMAIN_IDENTITY);
  boot(s);
  t.equal(typeOf(s, 'ep'), 'DMA');
  t.ok(s.log.grep(/Failed to allocate default IOMMU domain of type 4 for group \d+ - Falling back to IOMMU_DOMAIN_DMA/).length);
});

t.test('devices found before their IOMMU is registered are deferred and probed when it registers', async (t) => {
  const s = coreSetup();
  t.equal(s.core.addDevice(s.dev('ep')), -EPROBE_DEFER);
  t.same(s.core.deferred, [s.dev('ep')]);
  s.core.registerInstance(s.drv.instance);
  t.same(s.core.deferred, []);
  t.ok(s.core.groupOf(s.dev('ep')));
  const d = coreSetup();
  d.core.registerInstance(d.drv.instance);
  d.drv.defers = 2;
  t.equal(d.core.addDevice(d.dev('ep')), -EPROBE_DEFER, 'probe_device said -EPROBE_DEFER');
  d.core.retryDeferred();
  t.equal(d.core.groupOf(d.dev('ep')), undefined, 'still not ready');
  d.core.retryDeferred();
  t.ok(d.core.groupOf(d.dev('ep')), 'probed once the driver is ready');
  t.equal(typeOf(d, 'ep'), 'DMA-FQ');
  t.equal(IOMMU_DOMAIN_PLATFORM, 32);
});
