export * from './clock.js';
export * from './prng.js';
export * from './config-error.js';
export * from './suggest.js';
export * from './irq.js';
export * from './event-log.js';
export * from './trace.js';
export * from './chrome-trace.js';
