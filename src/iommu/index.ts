export * from './notifier.js';
export * from './iommu-region.js';
export * from './walk/guest-ram-view.js';
export * from './walk/walk-result.js';
export * from './walk/vtd-sl.js';
export * from './walk/lpae.js';
export * from './walk/tce.js';
