import { ciFuzz } from './run-ci.js';

ciFuzz(['mmio', 'vtd', 'smmuv3']);
