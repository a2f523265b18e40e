// The cgroup filesystem in a container on a v1 host: a tmpfs with each
// hierarchy's container cgroup bound in as its root, as runc does.
import t from 'tap';
import { mountOps } from '../../src/mounts/plan.js';
import { MS } from '../../src/mounts/flags.js';

const host = {
  cgroupMounts: [
    { path: '/sys/fs/cgroup/memory', fstype: 'cgroup' as const },
    { path: '/sys/fs/cgroup/cpu,cpuacct', fstype: 'cgroup' as const },
    { path: '/sys/fs/cgroup/unified', fstype: 'cgroup2' as const },
  ],
  cgroupLinks: [{ name: 'cpu', target: 'cpu,cpuacct' }],
};
const mount = { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'relatime', 'ro'] };
const cgroupOnly = (ops: ReturnType<typeof mountOps>) => ops.filter((o) => 'step' in o && o.step === 'mount /sys/fs/cgroup');

t.test('v1: tmpfs, the container\'s own cgroup per hierarchy, links, then read-only', async (t) => {
  const ops = cgroupOnly(mountOps({ mounts: [mount], devices: [], bundle: '/b', userns: false, host, cgroupPath: 'berth/c1' }));
  t.match(ops[0], { op: 'mount', fstype: 'tmpfs', target: '/sys/fs/cgroup', data: 'mode=755' });
  t.equal((ops[0] as { flags: number }).flags & MS.RDONLY, 0, 'writable until the binds are in');
  t.same(ops.filter((o) => o.op === 'bind').map((o) => [(o as { source: string }).source, (o as { target: string }).target]), [
    ['/sys/fs/cgroup/memory/berth/c1', '/sys/fs/cgroup/memory'],
    ['/sys/fs/cgroup/cpu,cpuacct/berth/c1', '/sys/fs/cgroup/cpu,cpuacct'],
    ['/sys/fs/cgroup/unified/berth/c1', '/sys/fs/cgroup/unified'],
  ]);
  t.match(ops.find((o) => o.op === 'symlink'), { target: 'cpu,cpuacct', path: '/sys/fs/cgroup/cpu' });
  t.match(ops.at(-1), { op: 'setattr', target: '/sys/fs/cgroup', recursive: false });
});

t.test('no cgroup of its own: the host\'s tree; v2: cgroup2 itself', async (t) => {
  const ops = cgroupOnly(mountOps({ mounts: [mount], devices: [], bundle: '/b', userns: false, host }));
  t.same(ops.map((o) => o.op), ['bind']);
  t.match(ops[0], { source: '/sys/fs/cgroup', recursive: true });
  const v2 = cgroupOnly(mountOps({ mounts: [mount], devices: [], bundle: '/b', userns: false, host: { cgroupMounts: [{ path: '/sys/fs/cgroup', fstype: 'cgroup2' }] }, cgroupPath: 'berth/c1' }));
  t.match(v2, [{ op: 'mount', fstype: 'cgroup2', target: '/sys/fs/cgroup' }]);
});
