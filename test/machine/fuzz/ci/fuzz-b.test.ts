import { ciFuzz } from './run-ci.js';

ciFuzz(['spapr', 'virtio', 'firmware']);
