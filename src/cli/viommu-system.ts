import { startQmp } from './qmp-service.js';
import { runSystem } from './system-main.js';

const code = await runSystem(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr }, { startQmp });
// Open monitors (stdin, sockets) would keep the process alive after "quit".
process.exit(code);
