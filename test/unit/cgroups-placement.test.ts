// How a container's process gets into its cgroup, as the plan says: on a
// cgroup v2 host it is cloned into the directory (fd after the sync socket)
// together with its pid and cgroup namespaces, and the monitor never joins;
// on v1 the setup process joins first of all, before any namespace exists.
import t from 'tap';
import { buildPlan } from '../../src/runtime/plan.js';
import { NAMESPACE_CLONE_FLAGS, defaultSpec } from '../../src/spec/defaults.js';
import type { Op } from '../../src/runtime/protocol.js';

const v1 = { cgroupMounts: [{ path: '/sys/fs/cgroup/memory', fstype: 'cgroup' as const }], apparmor: false, selinux: false };
const v2 = { cgroupMounts: [{ path: '/sys/fs/cgroup', fstype: 'cgroup2' as const }], apparmor: false, selinux: false };
const spec = () => {
  const s = defaultSpec();
  s.root = { path: '/rootfs' };
  s.process!.terminal = false;
  s.linux!.namespaces!.push({ type: 'cgroup' });
  return s;
};
const find = <K extends Op['op']>(ops: Op[], op: K) => ops.filter((o): o is Extract<Op, { op: K }> => o.op === op);
const { pid: NEWPID, cgroup: NEWCGROUP } = NAMESPACE_CLONE_FLAGS;

t.test('cgroup v2: cloned into the cgroup with its pid and cgroup namespaces', async (t) => {
  const plan = buildPlan({ spec: spec(), bundle: '/b', host: v2, preserveFds: 2, cgroup: true });
  t.equal(plan.cgroupFd, 6, 'fds 0-2, two preserved, the sync socket at 5, the cgroup directory at 6');
  t.notOk(find(plan.ops, 'sync').some((o) => o.name === 'cgroup'), 'the setup process never joins');
  const [fork] = find(plan.ops, 'fork');
  t.match(fork, { cgroupFd: 6, cloneFlags: NEWPID | NEWCGROUP });
  for (const u of find(plan.ops, 'unshare')) t.equal(u.flags & (NEWPID | NEWCGROUP), 0, 'not unshared beforehand');
  t.ok(find(plan.ops, 'unshare').some((u) => u.flags & NAMESPACE_CLONE_FLAGS.network), 'the other namespaces are');
});

t.test('cgroup v1: the setup process joins first of all; a plain fork', async (t) => {
  const plan = buildPlan({ spec: spec(), bundle: '/b', host: v1, preserveFds: 0, cgroup: true });
  t.equal(plan.cgroupFd, undefined);
  t.match(plan.ops[0], { op: 'sync', name: 'cgroup' });
  const [fork] = find(plan.ops, 'fork');
  t.equal(fork!.cgroupFd, undefined);
  t.ok(find(plan.ops, 'unshare').some((u) => u.flags & NEWCGROUP), 'the cgroup namespace is unshared after joining');
});

t.test('no cgroup: neither', async (t) => {
  const plan = buildPlan({ spec: spec(), bundle: '/b', host: v2, preserveFds: 0 });
  t.equal(plan.cgroupFd, undefined);
  t.notOk(find(plan.ops, 'sync').length);
});
