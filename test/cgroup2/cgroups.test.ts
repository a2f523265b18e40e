// In the cgroup v2 guest (../shared/tools/cgroup2-vm), the same resource
// tests as on the v1 host: test/integration/cgroups.test.ts, imported. On a
// v1 host this file does nothing (that file runs there on its own).
import t from 'tap';
import { cgroupVersion } from '../../src/cgroups/index.js';

if (cgroupVersion() === 2) await import('../integration/cgroups.test.js');
else t.pass('not a cgroup v2 host: test/integration/cgroups.test.ts covers v1');
