/**
 * Uses viommu as a library (the package entry, 'viommu'): builds a q35 machine
 * with intel-iommu (caching-mode=on, so MAP notifications are allowed, as
 * VFIO needs) and an edu device, registers an IOMMU notifier on the edu's
 * IOMMU region the way VFIO does, boots the synthetic guest with the DMA
 * oracle, prints what the notifier saw, then runs a short IOTLB benchmark.
 *
 * Run it from a checkout (the package resolves itself by name):
 *   npm run build:test && node .build/examples/api/boot-and-notify.js
 * In another project: npm install PATH/TO/viommu, then import from 'viommu' as here.
 */
import {
  createMachine, formatBootReport, hmp, IOMMU_NOTIFIER_IOTLB_EVENTS, registerDeviceNotifier, reportFailed, runGuest,
  runIotlbBenchmark, type DeviceNotifyEvent,
} from 'viommu';

const machine = createMachine({
  machine: 'q35',
  devices: [{ driver: 'intel-iommu', 'caching-mode': true }, { driver: 'edu', id: 'e1' }],
  seed: 1,
});

const events: DeviceNotifyEvent[] = [];
const handle = registerDeviceNotifier(machine, 'e1', IOMMU_NOTIFIER_IOTLB_EVENTS, (e) => events.push(e));
for (const err of handle.errors) console.error(`notifier refused: ${err.message} (errno ${err.errno})`);

const report = runGuest(machine, { dmaMode: 'strict', workloads: [{ name: 'edu-dma', params: { iterations: 4 } }] });
const maps = events.filter((e) => e.entry.perm !== 0).length;
console.log(`notifier on ${handle.regions.join(', ') || '(no IOMMU region)'}: ${maps} MAP, ${events.length - maps} UNMAP`);
const first = events.find((e) => e.entry.perm !== 0);
if (first) console.log(`first MAP: iova 0x${first.entry.iova.toString(16)} -> 0x${first.entry.translatedAddr.toString(16)}, mask 0x${first.entry.addrMask.toString(16)}`);
handle.unregister();

console.log(formatBootReport(report).split('\n').filter((l) => /^(machine|IOMMU|DMA oracle|RESULT)/.test(l)).join('\n'));
console.log(hmp(machine, 'info iommu').split('\n')[0]);

const bench = await runIotlbBenchmark({ iommu: 'vtd', ops: 100_000 });
console.log(`iotlb bench: ${bench.ops} translations, ${bench.hits} hits, ${bench.misses} misses, ${bench.faults} faults`);

process.exitCode = reportFailed(report) || events.length === 0 || bench.faults !== 0 ? 1 : 0;
