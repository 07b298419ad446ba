export * from './notifier.js';
export * from './iommu-region.js';
