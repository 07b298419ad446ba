export * from './machine.js';
export * from './guest.js';
export * from './notify.js';
export * from './bench.js';
export * from './monitor.js';
