// The plan builder and the tables it reads: pure logic, no root needed.
import t from 'tap';
import { parseMountOptions } from '../../src/mounts/options.js';
import { MOUNT_ATTR, MS } from '../../src/mounts/flags.js';
import { buildExecPlan, buildPlan } from '../../src/runtime/plan.js';
import { encodePlan, type Op } from '../../src/runtime/protocol.js';
import { seccompFlags, seccompInput } from '../../src/runtime/seccomp.js';
import { capMask } from '../../src/runtime/caps.js';
import { defaultSpec } from '../../src/spec/defaults.js';
import type { Spec } from '../../src/spec/types.js';

const host = { cgroupMounts: [{ path: '/sys/fs/cgroup/memory', fstype: 'cgroup' as const }], apparmor: false, selinux: false };
const names = (ops: Op[]) => ops.map((o) => o.op);
const fieldOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    return (e as { field?: string }).field;
  }
  return undefined;
};
const plan = (edit?: (s: Spec) => void, extra: object = {}) => {
  const s = defaultSpec();
  s.process!.terminal = false;
  s.root = { path: '/rootfs', readonly: true };
  edit?.(s);
  return buildPlan({ spec: s, bundle: '/bundle', host, preserveFds: 0, ...extra });
};

t.test('mount options: flags, clears, binds, propagation, recursive attributes, data', async (t) => {
  const o = parseMountOptions(['rbind', 'ro', 'nosuid', 'rw', 'rslave', 'rnoexec', 'mode=755', 'size=1m'], 'mounts[0].options');
  t.equal(o.bind, true);
  t.equal(o.recursive, true);
  t.equal(o.flags, MS.NOSUID, 'rw clears the earlier ro');
  t.equal(o.propagation, MS.SLAVE);
  t.equal(o.propagationRecursive, true);
  t.equal(o.recursiveSet, MOUNT_ATTR.NOEXEC);
  t.same(o.data, ['mode=755', 'size=1m']);
  t.throws(() => parseMountOptions(['idmap'], 'mounts[2].options'), { message: /mounts\[2\]\.options\[0\]: "idmap"/ });
});

t.test('the order follows runc: namespaces, fork, rootfs, pivot, process, ready, exec', async (t) => {
  const ops = names(plan().ops);
  const at = (n: Op['op']) => ops.indexOf(n);
  t.ok(at('unshare') < at('fork'), 'namespaces before the fork (pid ns applies to children)');
  t.ok(at('fork') < at('mount'), 'mounts in the container process');
  t.ok(at('mount') < at('pivot') && at('pivot') < at('mask'), 'masked paths after pivot_root');
  t.ok(at('bounding') < at('user') && at('user') < at('caps'), 'bounding set, then user, then capabilities');
  t.equal(ops.at(-2), 'ready');
  t.equal(ops.at(-1), 'exec');
  t.notOk(ops.includes('sync'), 'no user namespace: no sync');
});

t.test('a user namespace: unshare it alone, sync for the maps, become root, then the rest', async (t) => {
  const p = plan((s) => {
    s.linux!.namespaces!.push({ type: 'user' });
    s.linux!.uidMappings = [{ containerID: 0, hostID: 1000, size: 10 }];
    s.linux!.gidMappings = [{ containerID: 0, hostID: 2000, size: 10 }];
  });
  t.same(names(p.ops).slice(0, 5), ['unshare', 'sync', 'setid0', 'unshare', 'fork']);
  t.equal(p.userns?.uidMappings, '0 1000 10\n');
  t.equal(p.userns?.gidMappings, '0 2000 10\n');
  t.ok(p.ops.filter((o) => o.op === 'bind' && o.step.startsWith('create device')).length >= 6, 'devices are bound, not mknod');
});

t.test('run() without a start wait: no ready op, the monitor acks the pidfd', async (t) => {
  const p = plan(undefined, { waitForStart: false });
  t.notOk(names(p.ops).includes('ready'));
  t.same(p.ops.find((o) => o.op === 'fork'), { op: 'fork', step: 'start the container process', detach: false, pidAck: true });
});

t.test('OCI create: the exec fifo opened before pivot, checked exec, ready on the fifo', async (t) => {
  const ops = plan(undefined, { execFifo: '/run/berth/x/exec.fifo', detach: true }).ops;
  const n = names(ops);
  t.ok(n.indexOf('openfifo') < n.indexOf('pivot'));
  t.ok(n.indexOf('checkexec') < n.indexOf('ready'));
  t.same(ops.find((o) => o.op === 'ready'), { op: 'ready', step: 'wait for start', mode: 'fifo' });
});

t.test('errors name the field', async (t) => {
  t.equal(fieldOf(() => plan((s) => (s.process!.args = []))), 'process.args');
  t.equal(fieldOf(() => plan((s) => (s.process!.terminal = true))), 'process.terminal');
});

t.test('no mount namespace in the spec: one is made anyway, never the host\'s', async (t) => {
  const p = plan((s) => {
    s.linux!.namespaces = [{ type: 'pid' }];
    delete s.hostname;
  });
  const u = p.ops.find((o) => o.op === 'unshare');
  t.ok(u && 'flags' in u && u.flags & 0x00020000, 'CLONE_NEWNS');
  t.ok(names(p.ops).includes('pivot'));
});

t.test('exec joins every namespace of the container by /proc path', async (t) => {
  const p = buildExecPlan({ process: { ...defaultSpec().process!, terminal: false }, pid: 42, namespaces: ['pid', 'mount', 'network'], preserveFds: 0 });
  const join = p.ops.find((o) => o.op === 'join');
  t.same(join && 'namespaces' in join ? join.namespaces.map((n) => n.path) : [], ['/proc/42/ns/pid', '/proc/42/ns/mnt', '/proc/42/ns/net']);
  t.notOk(names(p.ops).includes('pivot'), 'no rootfs work');
});

t.test('capability masks and the ambient rule', async (t) => {
  t.equal(capMask(['CAP_CHOWN', 'CAP_KILL']), 0x21n);
  t.equal(capMask([]), 0n);
  const caps = plan((s) => (s.process!.capabilities = { permitted: ['CAP_KILL'], inheritable: ['CAP_KILL'], ambient: ['CAP_KILL', 'CAP_CHOWN'] })).ops.find(
    (o) => o.op === 'caps',
  );
  t.equal(caps && 'ambient' in caps ? caps.ambient : -1n, 0x20n, 'only caps also permitted and inheritable are raised');
});

t.test('the wire form: length prefix, NUL-separated, NUL in an argument refused', async (t) => {
  const b = encodePlan([{ op: 'hostname', step: 's', name: 'box' }]);
  t.equal(b.readUInt32LE(0), b.length - 4);
  t.equal(b.subarray(4).toString(), 'hostname\0s\x001\0box\0');
  t.throws(() => encodePlan([{ op: 'hostname', step: 's', name: 'a\0b' }]), /NUL/);
});

t.test('seccomp: OCI names to libseccomp numbers; same-argument conditions split', async (t) => {
  const i = seccompInput({
    defaultAction: 'SCMP_ACT_ERRNO',
    defaultErrnoRet: 38,
    architectures: ['SCMP_ARCH_X86_64'],
    syscalls: [
      { names: ['read', 'write'], action: 'SCMP_ACT_ALLOW' },
      { names: ['clone'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 1, op: 'SCMP_CMP_NE' }, { index: 0, value: 2, op: 'SCMP_CMP_NE' }] },
    ],
  });
  t.equal(i.defaultAction, 0x00050000 | 38);
  t.same(i.architectures, ['x86_64']);
  t.same(i.rules.map((r) => r.syscall), ['read', 'write', 'clone', 'clone']);
  t.equal(i.rules[2]!.args.length, 1);
  t.equal(seccompFlags({ defaultAction: 'SCMP_ACT_ALLOW', flags: ['SECCOMP_FILTER_FLAG_LOG'] }), 2);
  t.equal(fieldOf(() => seccompInput({ defaultAction: 'SCMP_ACT_NOTIFY' })), 'linux.seccomp.defaultAction');
});

t.test('init: the stub init comes right after the container process is made, before its terminal and credentials', async (t) => {
  const ops = names(plan(undefined, { init: true }).ops);
  const at = ops.indexOf('stubinit');
  t.ok(at > ops.indexOf('pivot'), 'inside the container root');
  t.ok(at < ops.indexOf('closefds') && at < ops.indexOf('user') && at < ops.indexOf('ready'), 'before what is the payload\'s');
  t.equal(ops.filter((o) => o === 'stubinit').length, 1);
  t.notOk(names(plan().ops).includes('stubinit'), 'none unless asked');
  t.same(encodePlan([{ op: 'stubinit', step: 'start the stub init' }]).subarray(4).toString().split('\0').slice(0, 3), ['stubinit', 'start the stub init', '0']);
});
