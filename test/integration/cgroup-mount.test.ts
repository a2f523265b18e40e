// What a container sees at /sys/fs/cgroup on this cgroup v1 host: its own
// cgroup as each hierarchy's root (its limits where programs look for them),
// none of the host's other cgroups, read-only.
import t from 'tap';
import { out, sh } from '../helpers.js';

t.test('each hierarchy shows the container\'s own cgroup', async (t) => {
  const r = await sh(
    'cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max; ls /sys/fs/cgroup/memory | grep -c "^berth$"; ' +
      'awk \'$5 == "/sys/fs/cgroup/memory" { print $4 }\' /proc/self/mountinfo; touch /sys/fs/cgroup/memory/x 2>&1 | grep -c Read-only',
    (s) => {
      s.linux!.resources = { memory: { limit: 48 * 2 ** 20 }, pids: { limit: 9 } };
    },
  );
  const [mem, pids, berthDirs, mountRoot, ro] = out(r).trim().split('\n');
  t.equal(mem, String(48 * 2 ** 20), 'memory.limit_in_bytes at the root is the container\'s limit');
  t.equal(pids, '9', 'pids.max too');
  t.equal(berthDirs, '0', 'the host\'s other cgroups are not in view');
  t.match(mountRoot, /^\/berth\/[^/]+$/, 'mountinfo names the cgroup the root stands for (as runc)');
  t.equal(ro, '1', 'read-only');
});
