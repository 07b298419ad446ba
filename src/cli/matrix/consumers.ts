import type { MatrixConsumer } from './consumer.js';
import { eduConsumer } from './consumers/edu.js';
import { vfioConsumer } from './consumers/vfio.js';
import { virtioNetConsumer } from './consumers/virtio-net.js';

/** The consumers `viommu matrix` runs, in table order. */
export const CONSUMERS: readonly MatrixConsumer[] = [virtioNetConsumer(true), virtioNetConsumer(false), vfioConsumer, eduConsumer];
