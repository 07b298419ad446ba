export * from './json.js';
export * from './errors.js';
export * from './backend.js';
export * from './commands.js';
export * from './session.js';
export * from './server.js';
