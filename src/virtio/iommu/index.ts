export * from './virtio-iommu-device.js';
export * from './virtio-iommu-pci.js';
