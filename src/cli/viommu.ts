import { runViommu } from './main.js';

process.exitCode = await runViommu(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr });
