import { runSystem } from './system-main.js';

process.exitCode = await runSystem(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr });
