import { ciFuzz } from './run-ci.js';

ciFuzz(['qmp', 'qtest', 'vhost']);
