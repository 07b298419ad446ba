import type { MatrixConsumer } from './consumer.js';
import { eduConsumer } from './consumers/edu.js';
import { vfioConsumer } from './consumers/vfio.js';

/** The consumers `viommu matrix` runs, in table order. */
export const CONSUMERS: readonly MatrixConsumer[] = [vfioConsumer, eduConsumer];
