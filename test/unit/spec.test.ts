import t from 'tap';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  CAPABILITIES,
  DEFAULT_OCI_VERSION,
  HOOK_NAMES,
  NAMESPACE_CLONE_FLAGS,
  NAMESPACE_PROC_NAMES,
  NAMESPACE_TYPES,
  RLIMITS,
  ROOTFS_PROPAGATIONS,
  SpecError,
  defaultSpec,
  parseSpecJson,
  validateSpec,
  type Spec,
} from '../../src/spec/index.js';

// Loose view of a spec, for building broken ones.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Loose = any;

// --------------------------------------------------------------- fixtures

// The fixtures are what `runc spec` and `runc spec --rootless` (runc 1.1.5,
// Debian 12, run as root) printed. Found from the compiled file's place
// (dist/test/unit) or, failing that, from the working directory.
function fixturePath(name: string): string {
  const rel = join('test', 'fixtures', name);
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, rel))) return join(dir, rel);
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return join(process.cwd(), rel);
}

const runcText = readFileSync(fixturePath('runc-spec.json'), 'utf8');
const runcRootlessText = readFileSync(fixturePath('runc-spec-rootless.json'), 'utf8');
const runcSpec = JSON.parse(runcText);
const runcRootlessSpec = JSON.parse(runcRootlessText);

function clone<T>(v: T): T {
  return JSON.parse(JSON.stringify(v));
}

function deepFreeze<T>(v: T): T {
  if (typeof v === 'object' && v !== null) {
    Object.values(v).forEach(deepFreeze);
    Object.freeze(v);
  }
  return v;
}

/** Assert that `fn` throws a SpecError with exactly this field and message. */
function throwsSpecError(tt: Tap, fn: () => unknown, field: string, message: string, name?: string): void {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  const label = name ?? message;
  if (!(err instanceof SpecError)) {
    tt.fail(`${label}: expected a SpecError, got ${err === undefined ? 'no error' : String(err)}`);
    return;
  }
  tt.equal(err.message, message, `${label}: message`);
  tt.equal(err.field, field, `${label}: field`);
  tt.equal(err.code, 'EINVAL', `${label}: code`);
  tt.equal(err.message, `${err.field}: ${err.problem}`, `${label}: message is "<field>: <problem>"`);
}

// The type of a subtest's `t`.
type Tap = Parameters<Parameters<typeof t.test>[0]>[0];

// ----------------------------------------------------------- defaultSpec

t.test('defaultSpec() is what `runc spec` prints', async (tt) => {
  tt.strictSame(defaultSpec(), runcSpec);
  // Same keys in the same order: runc writes the JSON with tab indents and
  // no trailing newline.
  tt.equal(JSON.stringify(defaultSpec(), null, '\t'), runcText.replace(/\n$/, ''));
  tt.strictSame(defaultSpec({ rootless: false }), runcSpec);
  tt.equal(defaultSpec().ociVersion, DEFAULT_OCI_VERSION);
});

t.test('defaultSpec({rootless: true}) is what `runc spec --rootless` prints', async (tt) => {
  // The fixture was made as root, so runc mapped container root to host 0.
  tt.strictSame(defaultSpec({ rootless: true, hostUid: 0, hostGid: 0 }), runcRootlessSpec);
  tt.equal(
    JSON.stringify(defaultSpec({ rootless: true, hostUid: 0, hostGid: 0 }), null, '\t'),
    runcRootlessText.replace(/\n$/, ''),
  );
  // Like runc, the default host IDs are the caller's effective ones.
  const s = defaultSpec({ rootless: true });
  tt.strictSame(s.linux?.uidMappings, [{ containerID: 0, hostID: process.geteuid!(), size: 1 }]);
  tt.strictSame(s.linux?.gidMappings, [{ containerID: 0, hostID: process.getegid!(), size: 1 }]);
  const other = defaultSpec({ rootless: true, hostUid: 1234, hostGid: 4321 });
  tt.equal(other.linux?.uidMappings?.[0].hostID, 1234);
  tt.equal(other.linux?.gidMappings?.[0].hostID, 4321);
  // The differences from the default spec, spelled out.
  tt.notOk(other.linux?.namespaces?.some((n) => n.type === 'network'), 'no network namespace');
  tt.ok(other.linux?.namespaces?.some((n) => n.type === 'user'), 'a user namespace');
  tt.equal(other.linux?.resources, undefined, 'no cgroup resources');
  tt.notOk(other.mounts?.find((m) => m.destination === '/dev/pts')?.options?.includes('gid=5'));
  tt.strictSame(other.mounts?.find((m) => m.destination === '/sys'), {
    destination: '/sys',
    type: 'none',
    source: '/sys',
    options: ['rbind', 'nosuid', 'noexec', 'nodev', 'ro'],
  });
});

t.test('defaultSpec returns a fresh object each call', async (tt) => {
  const a = defaultSpec();
  a.process!.args!.push('x');
  a.process!.capabilities!.bounding!.push('CAP_SYS_ADMIN');
  a.mounts![1].options!.push('ro');
  a.linux!.maskedPaths!.push('/x');
  a.linux!.namespaces!.pop();
  tt.strictSame(defaultSpec(), runcSpec);
  const b = defaultSpec();
  tt.not(b.process!.capabilities!.bounding, b.process!.capabilities!.effective, 'capability sets are distinct arrays');
  tt.not(b.linux!.maskedPaths, defaultSpec().linux!.maskedPaths);
});

t.test('defaultSpec({args}) replaces the command', async (tt) => {
  const args = ['/bin/echo', 'hi'];
  const s = defaultSpec({ args });
  tt.strictSame(s.process?.args, ['/bin/echo', 'hi']);
  args.push('changed');
  tt.strictSame(s.process?.args, ['/bin/echo', 'hi'], 'the array is copied');
  const expected = clone(runcSpec);
  expected.process.args = ['/bin/echo', 'hi'];
  tt.strictSame(s, expected, 'nothing else changes');
  tt.strictSame(defaultSpec({ rootless: true, args: ['true'], hostUid: 0, hostGid: 0 }).process?.args, ['true']);
});

t.test('the default specs pass validation unchanged', async (tt) => {
  tt.strictSame(validateSpec(defaultSpec()), runcSpec);
  tt.strictSame(validateSpec(defaultSpec({ rootless: true, hostUid: 0, hostGid: 0 })), runcRootlessSpec);
  tt.strictSame(validateSpec(defaultSpec({ rootless: true })), defaultSpec({ rootless: true }));
  tt.strictSame(parseSpecJson(runcText, 'runc-spec.json'), runcSpec);
  tt.strictSame(parseSpecJson(runcRootlessText), runcRootlessSpec);
});

// ----------------------------------------------------------------- tables

t.test('CAPABILITIES', async (tt) => {
  const entries = Object.entries(CAPABILITIES);
  tt.equal(entries.length, 41, 'CAP_CHOWN (0) .. CAP_CHECKPOINT_RESTORE (40)');
  tt.strictSame(
    entries.map(([, n]) => n),
    Array.from({ length: 41 }, (_, i) => i),
    'numbers 0..40 in order, each once',
  );
  tt.ok(entries.every(([name]) => /^CAP_[A-Z_]+$/.test(name)));
  const spot: Record<string, number> = {
    CAP_CHOWN: 0,
    CAP_KILL: 5,
    CAP_SETPCAP: 8,
    CAP_NET_BIND_SERVICE: 10,
    CAP_NET_RAW: 13,
    CAP_SYS_CHROOT: 18,
    CAP_SYS_ADMIN: 21,
    CAP_MKNOD: 27,
    CAP_AUDIT_WRITE: 29,
    CAP_SETFCAP: 31,
    CAP_SYSLOG: 34,
    CAP_AUDIT_READ: 37,
    CAP_PERFMON: 38,
    CAP_BPF: 39,
    CAP_CHECKPOINT_RESTORE: 40,
  };
  for (const [name, n] of Object.entries(spot)) tt.equal((CAPABILITIES as Record<string, number>)[name], n, name);
  tt.ok(Object.isFrozen(CAPABILITIES));
});

t.test('RLIMITS', async (tt) => {
  tt.strictSame(RLIMITS, {
    RLIMIT_CPU: 0,
    RLIMIT_FSIZE: 1,
    RLIMIT_DATA: 2,
    RLIMIT_STACK: 3,
    RLIMIT_CORE: 4,
    RLIMIT_RSS: 5,
    RLIMIT_NPROC: 6,
    RLIMIT_NOFILE: 7,
    RLIMIT_MEMLOCK: 8,
    RLIMIT_AS: 9,
    RLIMIT_LOCKS: 10,
    RLIMIT_SIGPENDING: 11,
    RLIMIT_MSGQUEUE: 12,
    RLIMIT_NICE: 13,
    RLIMIT_RTPRIO: 14,
    RLIMIT_RTTIME: 15,
  });
  tt.ok(Object.isFrozen(RLIMITS));
});

t.test('namespace tables', async (tt) => {
  tt.strictSame([...NAMESPACE_TYPES], ['pid', 'network', 'mount', 'ipc', 'uts', 'user', 'cgroup', 'time']);
  tt.ok(Object.isFrozen(NAMESPACE_TYPES));
  tt.strictSame(Object.keys(NAMESPACE_CLONE_FLAGS).sort(), [...NAMESPACE_TYPES].sort());
  tt.equal(NAMESPACE_CLONE_FLAGS.mount, 0x00020000, 'CLONE_NEWNS');
  tt.equal(NAMESPACE_CLONE_FLAGS.user, 0x10000000, 'CLONE_NEWUSER');
  tt.equal(NAMESPACE_CLONE_FLAGS.network, 0x40000000, 'CLONE_NEWNET');
  tt.equal(NAMESPACE_CLONE_FLAGS.time, 0x80, 'CLONE_NEWTIME');
  const flags = Object.values(NAMESPACE_CLONE_FLAGS);
  tt.equal(new Set(flags).size, 8, 'distinct flags');
  tt.equal(NAMESPACE_PROC_NAMES.network, 'net');
  tt.equal(NAMESPACE_PROC_NAMES.mount, 'mnt');
  tt.equal(NAMESPACE_PROC_NAMES.pid, 'pid');
  tt.strictSame(
    [...HOOK_NAMES],
    ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'],
  );
});

// --------------------------------------------------------- malformed specs

interface Bad {
  name?: string;
  /** Start from this spec (a fresh copy); defaultSpec() when unset. */
  base?: () => Loose;
  edit: (s: Loose) => void;
  field: string;
  message: string;
}

const rootless = () => defaultSpec({ rootless: true, hostUid: 1000, hostGid: 1000 });

const bad: Bad[] = [
  // ociVersion
  { edit: (s) => (s.ociVersion = 1), field: 'ociVersion', message: 'ociVersion: must be a string' },
  { name: 'ociVersion missing', edit: (s) => delete s.ociVersion, field: 'ociVersion', message: 'ociVersion: must be a string' },
  {
    edit: (s) => (s.ociVersion = '1.0'),
    field: 'ociVersion',
    message: 'ociVersion: must be a SemVer version such as "1.0.2" (got "1.0")',
  },
  {
    edit: (s) => (s.ociVersion = '2.0.0'),
    field: 'ociVersion',
    message: 'ociVersion: unsupported version "2.0.0" (expected 1.x)',
  },

  // process
  { edit: (s) => (s.process = 'sh'), field: 'process', message: 'process: must be an object' },
  { edit: (s) => (s.process.args = ['']), field: 'process.args[0]', message: 'process.args[0]: must be a non-empty string' },
  { edit: (s) => (s.process.args = [7]), field: 'process.args[0]', message: 'process.args[0]: must be a non-empty string' },
  { edit: (s) => (s.process.args = []), field: 'process.args', message: 'process.args: must be a non-empty array of strings' },
  {
    name: 'process.args missing',
    edit: (s) => delete s.process.args,
    field: 'process.args',
    message: 'process.args: must be a non-empty array of strings',
  },
  { edit: (s) => (s.process.args = 'sh'), field: 'process.args', message: 'process.args: must be a non-empty array of strings' },
  { edit: (s) => (s.process.args = ['sh', 3]), field: 'process.args[1]', message: 'process.args[1]: must be a string' },
  {
    edit: (s) => (s.process.args = ['sh', '-c', 'a\0b']),
    field: 'process.args[2]',
    message: 'process.args[2]: must not contain a NUL byte',
  },
  { edit: (s) => s.process.env.push('NOEQUALS'), field: 'process.env[2]', message: 'process.env[2]: must be "KEY=value"' },
  { edit: (s) => (s.process.env = ['=x']), field: 'process.env[0]', message: 'process.env[0]: must be "KEY=value"' },
  { edit: (s) => (s.process.env = [{}]), field: 'process.env[0]', message: 'process.env[0]: must be "KEY=value"' },
  {
    edit: (s) => (s.process.env = 'A=b'),
    field: 'process.env',
    message: 'process.env: must be an array of "KEY=value" strings',
  },
  { edit: (s) => (s.process.cwd = 'tmp'), field: 'process.cwd', message: 'process.cwd: must be an absolute path' },
  { name: 'process.cwd missing', edit: (s) => delete s.process.cwd, field: 'process.cwd', message: 'process.cwd: must be an absolute path' },
  { name: 'process.user missing', edit: (s) => delete s.process.user, field: 'process.user', message: 'process.user: must be an object' },
  {
    edit: (s) => (s.process.user.uid = -1),
    field: 'process.user.uid',
    message: 'process.user.uid: must be an integer between 0 and 4294967295',
  },
  {
    edit: (s) => (s.process.user.uid = 4294967296),
    field: 'process.user.uid',
    message: 'process.user.uid: must be an integer between 0 and 4294967295',
  },
  {
    edit: (s) => (s.process.user.uid = 1.5),
    field: 'process.user.uid',
    message: 'process.user.uid: must be an integer between 0 and 4294967295',
  },
  {
    edit: (s) => (s.process.user.uid = '0'),
    field: 'process.user.uid',
    message: 'process.user.uid: must be an integer between 0 and 4294967295',
  },
  {
    name: 'process.user.gid missing',
    edit: (s) => delete s.process.user.gid,
    field: 'process.user.gid',
    message: 'process.user.gid: must be an integer between 0 and 4294967295',
  },
  {
    edit: (s) => (s.process.user.umask = 0o1000),
    field: 'process.user.umask',
    message: 'process.user.umask: must be an integer between 0 and 511 (0o777)',
  },
  {
    edit: (s) => (s.process.user.additionalGids = [1, -2]),
    field: 'process.user.additionalGids[1]',
    message: 'process.user.additionalGids[1]: must be an integer between 0 and 4294967295',
  },
  {
    edit: (s) => (s.process.capabilities.bounding[1] = 'CAP_FOO'),
    field: 'process.capabilities.bounding[1]',
    message: 'process.capabilities.bounding[1]: unknown capability "CAP_FOO"',
  },
  {
    name: 'capability names are case-sensitive',
    edit: (s) => (s.process.capabilities.effective = ['cap_kill']),
    field: 'process.capabilities.effective[0]',
    message: 'process.capabilities.effective[0]: unknown capability "cap_kill"',
  },
  {
    edit: (s) => (s.process.capabilities.ambient = 'CAP_KILL'),
    field: 'process.capabilities.ambient',
    message: 'process.capabilities.ambient: must be an array of strings',
  },
  {
    edit: (s) => (s.process.capabilities.inheritable = [5]),
    field: 'process.capabilities.inheritable[0]',
    message: 'process.capabilities.inheritable[0]: must be a string',
  },
  {
    edit: (s) => (s.process.capabilities = ['CAP_KILL']),
    field: 'process.capabilities',
    message: 'process.capabilities: must be an object',
  },
  {
    edit: (s) => (s.process.rlimits[0].type = 'RLIMIT_BAR'),
    field: 'process.rlimits[0].type',
    message: 'process.rlimits[0].type: unknown rlimit "RLIMIT_BAR"',
  },
  {
    edit: (s) => (s.process.rlimits[0].hard = -1),
    field: 'process.rlimits[0].hard',
    message: 'process.rlimits[0].hard: must be a non-negative integer',
  },
  {
    name: 'rlimit soft missing',
    edit: (s) => delete s.process.rlimits[0].soft,
    field: 'process.rlimits[0].soft',
    message: 'process.rlimits[0].soft: must be a non-negative integer',
  },
  {
    edit: (s) => (s.process.rlimits[0].soft = 2048),
    field: 'process.rlimits[0].soft',
    message: 'process.rlimits[0].soft: must not be greater than hard (1024)',
  },
  {
    edit: (s) => s.process.rlimits.push({ type: 'RLIMIT_NOFILE', hard: 1, soft: 1 }),
    field: 'process.rlimits',
    message: 'process.rlimits: duplicate rlimit "RLIMIT_NOFILE"',
  },
  { edit: (s) => (s.process.terminal = 'yes'), field: 'process.terminal', message: 'process.terminal: must be a boolean' },
  {
    edit: (s) => (s.process.noNewPrivileges = 1),
    field: 'process.noNewPrivileges',
    message: 'process.noNewPrivileges: must be a boolean',
  },
  {
    edit: (s) => (s.process.oomScoreAdj = 1001),
    field: 'process.oomScoreAdj',
    message: 'process.oomScoreAdj: must be an integer between -1000 and 1000',
  },
  {
    edit: (s) => (s.process.consoleSize = { height: 24 }),
    field: 'process.consoleSize.width',
    message: 'process.consoleSize.width: must be an integer between 0 and 65535',
  },
  {
    edit: (s) => (s.process.scheduler = { policy: 'SCHED_FOO' }),
    field: 'process.scheduler.policy',
    message:
      'process.scheduler.policy: must be one of SCHED_OTHER, SCHED_FIFO, SCHED_RR, SCHED_BATCH, SCHED_ISO, SCHED_IDLE, SCHED_DEADLINE',
  },
  {
    edit: (s) => (s.process.ioPriority = { class: 'IOPRIO_CLASS_BE', priority: 8 }),
    field: 'process.ioPriority.priority',
    message: 'process.ioPriority.priority: must be an integer between 0 and 7',
  },
  {
    edit: (s) => (s.process.apparmorProfile = 5),
    field: 'process.apparmorProfile',
    message: 'process.apparmorProfile: must be a string',
  },

  // root
  { edit: (s) => (s.root.path = ''), field: 'root.path', message: 'root.path: must be a non-empty string' },
  { name: 'root.path missing', edit: (s) => (s.root = {}), field: 'root.path', message: 'root.path: must be a non-empty string' },
  { edit: (s) => (s.root.readonly = 'true'), field: 'root.readonly', message: 'root.readonly: must be a boolean' },
  { edit: (s) => (s.root = 'rootfs'), field: 'root', message: 'root: must be an object' },

  // hostname, domainname
  { edit: (s) => (s.hostname = 5), field: 'hostname', message: 'hostname: must be a string' },
  { edit: (s) => (s.hostname = 'h'.repeat(65)), field: 'hostname', message: 'hostname: must be at most 64 bytes' },
  {
    name: 'hostname without a uts namespace',
    edit: (s) => (s.linux.namespaces = s.linux.namespaces.filter((n: Loose) => n.type !== 'uts')),
    field: 'hostname',
    message: 'hostname: requires a "uts" namespace in linux.namespaces',
  },
  {
    name: 'domainname without a uts namespace',
    edit: (s) => {
      delete s.hostname;
      s.domainname = 'example.org';
      s.linux.namespaces = s.linux.namespaces.filter((n: Loose) => n.type !== 'uts');
    },
    field: 'domainname',
    message: 'domainname: requires a "uts" namespace in linux.namespaces',
  },

  // mounts
  { edit: (s) => (s.mounts = {}), field: 'mounts', message: 'mounts: must be an array' },
  { edit: (s) => (s.mounts[2] = 'x'), field: 'mounts[2]', message: 'mounts[2]: must be an object' },
  {
    edit: (s) => (s.mounts[3].destination = 'dev/shm'),
    field: 'mounts[3].destination',
    message: 'mounts[3].destination: must be an absolute path',
  },
  {
    name: 'mount destination missing',
    edit: (s) => delete s.mounts[0].destination,
    field: 'mounts[0].destination',
    message: 'mounts[0].destination: must be an absolute path',
  },
  {
    edit: (s) => (s.mounts[3].options[0] = 1),
    field: 'mounts[3].options[0]',
    message: 'mounts[3].options[0]: must be a string',
  },
  { edit: (s) => (s.mounts[1].type = 7), field: 'mounts[1].type', message: 'mounts[1].type: must be a string' },
  { edit: (s) => (s.mounts[1].source = 5), field: 'mounts[1].source', message: 'mounts[1].source: must be a string' },
  {
    edit: (s) => (s.mounts[0].uidMappings = [{ containerID: 0, hostID: 1000, size: 1 }]),
    field: 'mounts[0].gidMappings',
    message: 'mounts[0].gidMappings: required when uidMappings is given',
  },
  {
    edit: (s) => {
      s.mounts[0].uidMappings = [{ containerID: 0, hostID: 1000, size: 1 }];
      s.mounts[0].gidMappings = [{ containerID: 0, hostID: 1000, size: 0 }];
    },
    field: 'mounts[0].gidMappings[0].size',
    message: 'mounts[0].gidMappings[0].size: must be a positive integer',
  },

  // hooks
  {
    edit: (s) => (s.hooks = { poststart: [{ path: 'bin/hook' }] }),
    field: 'hooks.poststart[0].path',
    message: 'hooks.poststart[0].path: must be an absolute path',
  },
  {
    edit: (s) => (s.hooks = { prestart: [{ path: '/bin/true', timeout: 0 }] }),
    field: 'hooks.prestart[0].timeout',
    message: 'hooks.prestart[0].timeout: must be a positive integer',
  },
  {
    edit: (s) => (s.hooks = { createContainer: [{ path: '/bin/true' }, { path: '/bin/true', timeout: 1.5 }] }),
    field: 'hooks.createContainer[1].timeout',
    message: 'hooks.createContainer[1].timeout: must be a positive integer',
  },
  {
    edit: (s) => (s.hooks = { createRuntime: { path: '/bin/true' } }),
    field: 'hooks.createRuntime',
    message: 'hooks.createRuntime: must be an array',
  },
  {
    edit: (s) => (s.hooks = { poststop: [{ path: '/bin/true', env: ['X'] }] }),
    field: 'hooks.poststop[0].env[0]',
    message: 'hooks.poststop[0].env[0]: must be "KEY=value"',
  },
  {
    edit: (s) => (s.hooks = { startContainer: [{ path: '/bin/true', args: [1] }] }),
    field: 'hooks.startContainer[0].args[0]',
    message: 'hooks.startContainer[0].args[0]: must be a string',
  },
  { edit: (s) => (s.hooks = []), field: 'hooks', message: 'hooks: must be an object' },

  // annotations
  {
    edit: (s) => (s.annotations = { 'org.example.key': 1 }),
    field: 'annotations["org.example.key"]',
    message: 'annotations["org.example.key"]: must be a string',
  },
  { edit: (s) => (s.annotations = { plain: false }), field: 'annotations.plain', message: 'annotations.plain: must be a string' },
  { edit: (s) => (s.annotations = { '': 'x' }), field: 'annotations', message: 'annotations: keys must not be empty' },
  { edit: (s) => (s.annotations = ['a=b']), field: 'annotations', message: 'annotations: must be an object' },

  // linux.namespaces
  { edit: (s) => (s.linux = []), field: 'linux', message: 'linux: must be an object' },
  {
    edit: (s) => (s.linux.namespaces[2].type = 'foo'),
    field: 'linux.namespaces[2].type',
    message:
      'linux.namespaces[2].type: unknown namespace type "foo" (expected one of pid, network, mount, ipc, uts, user, cgroup, time)',
  },
  {
    edit: (s) => (s.linux.namespaces[0] = {}),
    field: 'linux.namespaces[0].type',
    message: 'linux.namespaces[0].type: must be a string',
  },
  {
    edit: (s) => s.linux.namespaces.push({ type: 'pid', path: '/proc/1/ns/pid' }),
    field: 'linux.namespaces',
    message: 'linux.namespaces: duplicate namespace type "pid"',
  },
  {
    edit: (s) => (s.linux.namespaces[0].path = 'proc/1/ns/pid'),
    field: 'linux.namespaces[0].path',
    message: 'linux.namespaces[0].path: must be an absolute path',
  },
  { edit: (s) => (s.linux.namespaces = { pid: {} }), field: 'linux.namespaces', message: 'linux.namespaces: must be an array' },

  // uid/gid mappings
  {
    name: 'uidMappings without a user namespace',
    edit: (s) => {
      s.linux.uidMappings = [{ containerID: 0, hostID: 1000, size: 1 }];
      s.linux.gidMappings = [{ containerID: 0, hostID: 1000, size: 1 }];
    },
    field: 'linux.uidMappings',
    message: 'linux.uidMappings: requires a "user" namespace in linux.namespaces',
  },
  {
    name: 'gidMappings without a user namespace',
    edit: (s) => (s.linux.gidMappings = [{ containerID: 0, hostID: 1000, size: 1 }]),
    field: 'linux.gidMappings',
    message: 'linux.gidMappings: requires a "user" namespace in linux.namespaces',
  },
  {
    base: rootless,
    edit: (s) => (s.linux.uidMappings[0].size = 0),
    field: 'linux.uidMappings[0].size',
    message: 'linux.uidMappings[0].size: must be a positive integer',
  },
  {
    base: rootless,
    edit: (s) => (s.linux.uidMappings[0].size = -5),
    field: 'linux.uidMappings[0].size',
    message: 'linux.uidMappings[0].size: must be a positive integer',
  },
  {
    base: rootless,
    edit: (s) => delete s.linux.gidMappings[0].size,
    field: 'linux.gidMappings[0].size',
    message: 'linux.gidMappings[0].size: must be a positive integer',
  },
  {
    base: rootless,
    edit: (s) => (s.linux.uidMappings[0].size = 4294967296),
    field: 'linux.uidMappings[0].size',
    message: 'linux.uidMappings[0].size: must be at most 4294967295',
  },
  {
    base: rootless,
    edit: (s) => (s.linux.uidMappings[0].hostID = -1),
    field: 'linux.uidMappings[0].hostID',
    message: 'linux.uidMappings[0].hostID: must be an integer between 0 and 4294967295',
  },
  {
    base: rootless,
    edit: (s) => (s.linux.gidMappings[0].containerID = '0'),
    field: 'linux.gidMappings[0].containerID',
    message: 'linux.gidMappings[0].containerID: must be an integer between 0 and 4294967295',
  },
  {
    base: rootless,
    edit: (s) => s.linux.uidMappings.push({ containerID: 4294967295, hostID: 5000, size: 2 }),
    field: 'linux.uidMappings[1].size',
    message: 'linux.uidMappings[1].size: containerID + size must not exceed 4294967296',
  },
  {
    base: rootless,
    edit: (s) => s.linux.uidMappings.push({ containerID: 1, hostID: 4294967295, size: 2 }),
    field: 'linux.uidMappings[1].size',
    message: 'linux.uidMappings[1].size: hostID + size must not exceed 4294967296',
  },
  {
    base: rootless,
    edit: (s) =>
      (s.linux.uidMappings = [
        { containerID: 0, hostID: 1000, size: 10 },
        { containerID: 5, hostID: 2000, size: 10 },
      ]),
    field: 'linux.uidMappings[1]',
    message: 'linux.uidMappings[1]: container IDs overlap those of linux.uidMappings[0]',
  },
  {
    base: rootless,
    edit: (s) =>
      (s.linux.gidMappings = [
        { containerID: 0, hostID: 1000, size: 10 },
        { containerID: 100, hostID: 1009, size: 10 },
      ]),
    field: 'linux.gidMappings[1]',
    message: 'linux.gidMappings[1]: host IDs overlap those of linux.gidMappings[0]',
  },
  {
    base: rootless,
    edit: (s) =>
      (s.linux.uidMappings = Array.from({ length: 341 }, (_, i) => ({ containerID: i, hostID: 100000 + i, size: 1 }))),
    field: 'linux.uidMappings',
    message: 'linux.uidMappings: must have at most 340 entries',
  },
  {
    base: rootless,
    edit: (s) => (s.linux.uidMappings = { containerID: 0, hostID: 0, size: 1 }),
    field: 'linux.uidMappings',
    message: 'linux.uidMappings: must be an array',
  },
  {
    name: 'new user namespace without uidMappings',
    base: rootless,
    edit: (s) => delete s.linux.uidMappings,
    field: 'linux.uidMappings',
    message: 'linux.uidMappings: required for a new "user" namespace (one without "path")',
  },
  {
    name: 'new user namespace with empty gidMappings',
    base: rootless,
    edit: (s) => (s.linux.gidMappings = []),
    field: 'linux.gidMappings',
    message: 'linux.gidMappings: required for a new "user" namespace (one without "path")',
  },
  {
    name: 'process uid not mapped',
    base: rootless,
    edit: (s) => (s.process.user.uid = 1),
    field: 'process.user.uid',
    message: 'process.user.uid: 1 is not mapped by linux.uidMappings',
  },
  {
    name: 'process gid not mapped',
    base: rootless,
    edit: (s) => (s.process.user.gid = 1000),
    field: 'process.user.gid',
    message: 'process.user.gid: 1000 is not mapped by linux.gidMappings',
  },
  {
    name: 'additional gid not mapped',
    base: rootless,
    edit: (s) => (s.process.user.additionalGids = [0, 5]),
    field: 'process.user.additionalGids[1]',
    message: 'process.user.additionalGids[1]: 5 is not mapped by linux.gidMappings',
  },

  // other linux fields
  {
    edit: (s) => (s.linux.rootfsPropagation = 'weird'),
    field: 'linux.rootfsPropagation',
    message:
      'linux.rootfsPropagation: must be one of shared, slave, private, unbindable, rshared, rslave, rprivate, runbindable',
  },
  {
    edit: (s) => (s.linux.maskedPaths[0] = 'proc/acpi'),
    field: 'linux.maskedPaths[0]',
    message: 'linux.maskedPaths[0]: must be an absolute path',
  },
  {
    edit: (s) => (s.linux.readonlyPaths = '/proc/sys'),
    field: 'linux.readonlyPaths',
    message: 'linux.readonlyPaths: must be an array of absolute paths',
  },
  { edit: (s) => (s.linux.mountLabel = 1), field: 'linux.mountLabel', message: 'linux.mountLabel: must be a string' },
  { edit: (s) => (s.linux.cgroupsPath = 5), field: 'linux.cgroupsPath', message: 'linux.cgroupsPath: must be a string' },
  {
    edit: (s) => (s.linux.sysctl = { 'net.ipv4.ip_forward': 1 }),
    field: 'linux.sysctl["net.ipv4.ip_forward"]',
    message: 'linux.sysctl["net.ipv4.ip_forward"]: must be a string',
  },
  { edit: (s) => (s.linux.sysctl = ['a=b']), field: 'linux.sysctl', message: 'linux.sysctl: must be an object' },
  {
    edit: (s) => (s.linux.sysctl = { 'vm.swappiness': '10' }),
    field: 'linux.sysctl["vm.swappiness"]',
    message: 'linux.sysctl["vm.swappiness"]: is not namespaced: setting it would change the host',
  },
  {
    name: 'net sysctl without a network namespace',
    base: rootless,
    edit: (s) => (s.linux.sysctl = { 'net.ipv4.ping_group_range': '0 0' }),
    field: 'linux.sysctl["net.ipv4.ping_group_range"]',
    message: 'linux.sysctl["net.ipv4.ping_group_range"]: requires a "network" namespace in linux.namespaces',
  },
  {
    name: 'ipc sysctl without an ipc namespace',
    edit: (s) => {
      s.linux.namespaces = s.linux.namespaces.filter((n: Loose) => n.type !== 'ipc');
      s.linux.sysctl = { 'kernel.shmmax': '1000' };
    },
    field: 'linux.sysctl["kernel.shmmax"]',
    message: 'linux.sysctl["kernel.shmmax"]: requires an "ipc" namespace in linux.namespaces',
  },
  {
    edit: (s) => (s.linux.devices = [{ type: 'x', path: '/dev/x' }]),
    field: 'linux.devices[0].type',
    message: 'linux.devices[0].type: must be one of c, b, u, p',
  },
  {
    edit: (s) => (s.linux.devices = [{ type: 'c', path: '/dev/fuse', major: 10 }]),
    field: 'linux.devices[0].minor',
    message: 'linux.devices[0].minor: must be an integer between 0 and 4294967295',
  },
  {
    edit: (s) => (s.linux.devices = [{ type: 'c', path: 'dev/fuse', major: 10, minor: 229 }]),
    field: 'linux.devices[0].path',
    message: 'linux.devices[0].path: must be an absolute path',
  },
  {
    edit: (s) => (s.linux.devices = [{ type: 'b', path: '/dev/sda', major: 8, minor: 0, uid: -1 }]),
    field: 'linux.devices[0].uid',
    message: 'linux.devices[0].uid: must be an integer between 0 and 4294967295',
  },
  {
    edit: (s) => (s.linux.personality = { domain: 'LINUX64' }),
    field: 'linux.personality.domain',
    message: 'linux.personality.domain: must be one of LINUX, LINUX32',
  },
  {
    edit: (s) => (s.linux.timeOffsets = { monotonic: { secs: 1 } }),
    field: 'linux.timeOffsets',
    message: 'linux.timeOffsets: requires a "time" namespace in linux.namespaces',
  },
  {
    edit: (s) => {
      s.linux.namespaces.push({ type: 'time', path: '/proc/1/ns/time' });
      s.linux.timeOffsets = { boottime: { secs: 1 } };
    },
    field: 'linux.timeOffsets',
    message: 'linux.timeOffsets: cannot be applied to a joined "time" namespace (one with "path")',
  },
  {
    edit: (s) => (s.linux.timeOffsets = { realtime: { secs: 1 } }),
    field: 'linux.timeOffsets.realtime',
    message: 'linux.timeOffsets.realtime: unknown clock (expected one of monotonic, boottime)',
  },
  {
    edit: (s) => (s.linux.timeOffsets = { monotonic: { nanosecs: 1e9 } }),
    field: 'linux.timeOffsets.monotonic.nanosecs',
    message: 'linux.timeOffsets.monotonic.nanosecs: must be an integer between 0 and 999999999',
  },
  {
    edit: (s) => (s.linux.intelRdt = { memBwSchema: 'L3:0=1' }),
    field: 'linux.intelRdt.memBwSchema',
    message: 'linux.intelRdt.memBwSchema: must start with "MB:" and be one line',
  },
  {
    edit: (s) => (s.linux.intelRdt = { closID: '../x' }),
    field: 'linux.intelRdt.closID',
    message: 'linux.intelRdt.closID: must be a directory name (without "/")',
  },

  // linux.resources
  {
    edit: (s) => (s.linux.resources.devices[0] = { access: 'rwm' }),
    field: 'linux.resources.devices[0].allow',
    message: 'linux.resources.devices[0].allow: must be a boolean',
  },
  {
    edit: (s) => (s.linux.resources.devices[0].access = 'rwx'),
    field: 'linux.resources.devices[0].access',
    message: 'linux.resources.devices[0].access: must be a combination of r, w and m',
  },
  {
    edit: (s) => (s.linux.resources.devices[0].type = 'p'),
    field: 'linux.resources.devices[0].type',
    message: 'linux.resources.devices[0].type: must be one of a, c, b',
  },
  {
    edit: (s) => (s.linux.resources.memory = { limit: '1g' }),
    field: 'linux.resources.memory.limit',
    message: 'linux.resources.memory.limit: must be -1 (unlimited) or a non-negative integer',
  },
  {
    edit: (s) => (s.linux.resources.memory = { swap: -2 }),
    field: 'linux.resources.memory.swap',
    message: 'linux.resources.memory.swap: must be -1 (unlimited) or a non-negative integer',
  },
  {
    edit: (s) => (s.linux.resources.memory = { swappiness: 101 }),
    field: 'linux.resources.memory.swappiness',
    message: 'linux.resources.memory.swappiness: must be an integer between 0 and 100',
  },
  {
    edit: (s) => (s.linux.resources.memory = { disableOOMKiller: 'no' }),
    field: 'linux.resources.memory.disableOOMKiller',
    message: 'linux.resources.memory.disableOOMKiller: must be a boolean',
  },
  {
    edit: (s) => (s.linux.resources.cpu = { shares: -1 }),
    field: 'linux.resources.cpu.shares',
    message: 'linux.resources.cpu.shares: must be a non-negative integer',
  },
  {
    edit: (s) => (s.linux.resources.cpu = { cpus: 'a-b' }),
    field: 'linux.resources.cpu.cpus',
    message: 'linux.resources.cpu.cpus: must be a list of CPU numbers and ranges such as "0-3,6"',
  },
  {
    edit: (s) => (s.linux.resources.cpu = { quota: 1000, burst: 2000 }),
    field: 'linux.resources.cpu.burst',
    message: 'linux.resources.cpu.burst: must not be greater than quota (1000)',
  },
  {
    edit: (s) => (s.linux.resources.pids = {}),
    field: 'linux.resources.pids.limit',
    message: 'linux.resources.pids.limit: must be an integer',
  },
  {
    edit: (s) => (s.linux.resources.blockIO = { weightDevice: [{ major: 8, minor: 0 }] }),
    field: 'linux.resources.blockIO.weightDevice[0]',
    message: 'linux.resources.blockIO.weightDevice[0]: must set weight or leafWeight',
  },
  {
    edit: (s) => (s.linux.resources.blockIO = { throttleReadBpsDevice: [{ major: 8, minor: 0 }] }),
    field: 'linux.resources.blockIO.throttleReadBpsDevice[0].rate',
    message: 'linux.resources.blockIO.throttleReadBpsDevice[0].rate: must be a non-negative integer',
  },
  {
    edit: (s) => (s.linux.resources.blockIO = { weight: 70000 }),
    field: 'linux.resources.blockIO.weight',
    message: 'linux.resources.blockIO.weight: must be an integer between 0 and 65535',
  },
  {
    edit: (s) => (s.linux.resources.hugepageLimits = [{ pageSize: '2M', limit: 1 }]),
    field: 'linux.resources.hugepageLimits[0].pageSize',
    message: 'linux.resources.hugepageLimits[0].pageSize: must be a size such as "2MB" or "64KB"',
  },
  {
    edit: (s) => (s.linux.resources.network = { priorities: [{ name: '', priority: 1 }] }),
    field: 'linux.resources.network.priorities[0].name',
    message: 'linux.resources.network.priorities[0].name: must be a non-empty string',
  },
  {
    edit: (s) => (s.linux.resources.rdma = { mlx5_1: {} }),
    field: 'linux.resources.rdma.mlx5_1',
    message: 'linux.resources.rdma.mlx5_1: must set hcaHandles or hcaObjects',
  },
  {
    edit: (s) => (s.linux.resources.unified = { '../../cgroup.procs': '1' }),
    field: 'linux.resources.unified["../../cgroup.procs"]',
    message: 'linux.resources.unified["../../cgroup.procs"]: must be a cgroup file name (without "/")',
  },
  {
    edit: (s) => (s.linux.resources.unified = { 'memory.max': 5 }),
    field: 'linux.resources.unified["memory.max"]',
    message: 'linux.resources.unified["memory.max"]: must be a string',
  },
  { edit: (s) => (s.linux.resources = []), field: 'linux.resources', message: 'linux.resources: must be an object' },

  // linux.seccomp
  {
    edit: (s) => (s.linux.seccomp = {}),
    field: 'linux.seccomp.defaultAction',
    message:
      'linux.seccomp.defaultAction: must be one of SCMP_ACT_KILL, SCMP_ACT_KILL_PROCESS, SCMP_ACT_KILL_THREAD, SCMP_ACT_TRAP, SCMP_ACT_ERRNO, SCMP_ACT_TRACE, SCMP_ACT_ALLOW, SCMP_ACT_LOG, SCMP_ACT_NOTIFY',
  },
  {
    edit: (s) => (s.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: [], action: 'SCMP_ACT_ERRNO' }] }),
    field: 'linux.seccomp.syscalls[0].names',
    message: 'linux.seccomp.syscalls[0].names: must be a non-empty array of strings',
  },
  {
    edit: (s) =>
      (s.linux.seccomp = {
        defaultAction: 'SCMP_ACT_ALLOW',
        syscalls: [{ names: ['kill'], action: 'SCMP_ACT_ERRNO', args: [{ index: 6, value: 0, op: 'SCMP_CMP_EQ' }] }],
      }),
    field: 'linux.seccomp.syscalls[0].args[0].index',
    message: 'linux.seccomp.syscalls[0].args[0].index: must be an integer between 0 and 5',
  },
  {
    edit: (s) =>
      (s.linux.seccomp = {
        defaultAction: 'SCMP_ACT_ALLOW',
        syscalls: [{ names: ['kill'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 0, op: 'EQ' }] }],
      }),
    field: 'linux.seccomp.syscalls[0].args[0].op',
    message:
      'linux.seccomp.syscalls[0].args[0].op: must be one of SCMP_CMP_NE, SCMP_CMP_LT, SCMP_CMP_LE, SCMP_CMP_EQ, SCMP_CMP_GE, SCMP_CMP_GT, SCMP_CMP_MASKED_EQ',
  },
  {
    edit: (s) =>
      (s.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['kill'], action: 'SCMP_ACT_ALLOW', errnoRet: 1 }] }),
    field: 'linux.seccomp.syscalls[0].errnoRet',
    message: 'linux.seccomp.syscalls[0].errnoRet: only allowed with SCMP_ACT_ERRNO or SCMP_ACT_TRACE',
  },
  {
    edit: (s) => (s.linux.seccomp = { defaultAction: 'SCMP_ACT_KILL', defaultErrnoRet: 1 }),
    field: 'linux.seccomp.defaultErrnoRet',
    message: 'linux.seccomp.defaultErrnoRet: only allowed with SCMP_ACT_ERRNO or SCMP_ACT_TRACE',
  },
  {
    edit: (s) => (s.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_FOO'] }),
    field: 'linux.seccomp.architectures[0]',
    message: 'linux.seccomp.architectures[0]: unknown architecture "SCMP_ARCH_FOO"',
  },
  {
    edit: (s) => (s.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', flags: ['SECCOMP_FILTER_FLAG_FOO'] }),
    field: 'linux.seccomp.flags[0]',
    message: 'linux.seccomp.flags[0]: unknown seccomp flag "SECCOMP_FILTER_FLAG_FOO"',
  },
  {
    edit: (s) =>
      (s.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mknod'], action: 'SCMP_ACT_NOTIFY' }] }),
    field: 'linux.seccomp.listenerPath',
    message: 'linux.seccomp.listenerPath: required when SCMP_ACT_NOTIFY is used',
  },
  {
    edit: (s) => (s.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', listenerMetadata: 'x' }),
    field: 'linux.seccomp.listenerMetadata',
    message: 'linux.seccomp.listenerMetadata: requires listenerPath',
  },

  // not JSON data
  { name: 'a function', edit: (s) => (s.ext = () => 1), field: 'ext', message: 'ext: must be JSON data (got function)' },
  {
    name: 'a key that is not an identifier',
    edit: (s) => (s['x-ext'] = { 'a b': [0, Symbol('s')] }),
    field: '["x-ext"]["a b"][1]',
    message: '["x-ext"]["a b"][1]: must be JSON data (got symbol)',
  },
  { name: 'NaN', edit: (s) => (s.process.oomScoreAdj = NaN), field: 'process.oomScoreAdj', message: 'process.oomScoreAdj: must be a finite number (got NaN)' },
  { name: 'a Date', edit: (s) => (s.annotations = { when: new Date(0) }), field: 'annotations.when', message: 'annotations.when: must be JSON data (got Date)' },
  {
    name: 'a hole in an array',
    edit: (s) => (s.process.env = [undefined]),
    field: 'process.env[0]',
    message: 'process.env[0]: must be JSON data (got undefined)',
  },
  {
    name: 'a sparse array',
    edit: (s) => delete s.linux.namespaces[1],
    field: 'linux.namespaces[1]',
    message: 'linux.namespaces[1]: must be JSON data (got undefined)',
  },
  {
    name: 'a cycle',
    edit: (s) => (s.linux.self = s.linux),
    field: 'linux.self',
    message: 'linux.self: must not contain a reference to itself',
  },
];

t.test('malformed specs throw SpecError with the field and message', async (tt) => {
  for (const c of bad) {
    const s = c.base ? c.base() : defaultSpec();
    c.edit(s);
    throwsSpecError(tt, () => validateSpec(s), c.field, c.message, c.name);
  }
});

t.test('every malformed case is valid before its edit', async (tt) => {
  // So each case above fails because of its edit, not because of its base.
  tt.doesNotThrow(() => validateSpec(defaultSpec()));
  tt.doesNotThrow(() => validateSpec(rootless()));
});

t.test('the document itself', async (tt) => {
  throwsSpecError(tt, () => validateSpec(null), '(root)', '(root): must be an object');
  throwsSpecError(tt, () => validateSpec([]), '(root)', '(root): must be an object');
  throwsSpecError(tt, () => validateSpec('{}'), '(root)', '(root): must be an object');
  throwsSpecError(tt, () => validateSpec({}), 'ociVersion', 'ociVersion: must be a string');
});

t.test('SpecError', async (tt) => {
  const e = new SpecError('mounts[3].destination', 'must be an absolute path');
  tt.ok(e instanceof Error);
  tt.equal(e.name, 'SpecError');
  tt.equal(e.code, 'EINVAL');
  tt.equal(e.field, 'mounts[3].destination');
  tt.equal(e.problem, 'must be an absolute path');
  tt.equal(e.message, 'mounts[3].destination: must be an absolute path');
});

// -------------------------------------------------------- valid edge cases

interface Good {
  name: string;
  base?: () => Loose;
  edit: (s: Loose) => void;
  /** Extra checks on the result. */
  check?: (tt: Tap, out: Spec) => void;
}

const good: Good[] = [
  { name: 'minimal spec', base: () => ({ ociVersion: '1.0.0' }), edit: () => {} },
  { name: 'ociVersion 1.2.0', edit: (s) => (s.ociVersion = '1.2.0') },
  { name: 'ociVersion with pre-release and build', edit: (s) => (s.ociVersion = '1.1.0-rc.1+build.5') },
  { name: 'no process', edit: (s) => delete s.process },
  { name: 'commandLine instead of args', edit: (s) => {
    delete s.process.args;
    s.process.commandLine = 'cmd.exe /c dir';
  } },
  { name: 'empty later arguments', edit: (s) => (s.process.args = ['sh', '-c', '']) },
  { name: 'env values may be empty or hold "="', edit: (s) => (s.process.env = ['A=', 'B=c=d', 'lower_case=1']) },
  { name: 'no env, capabilities or rlimits', edit: (s) => {
    delete s.process.env;
    delete s.process.capabilities;
    delete s.process.rlimits;
  } },
  { name: 'every capability in every set', edit: (s) => {
    const all = Object.keys(CAPABILITIES);
    s.process.capabilities = { bounding: all, effective: all, inheritable: all, permitted: all, ambient: all };
  } },
  { name: 'empty capability sets', edit: (s) => (s.process.capabilities = { bounding: [] }) },
  { name: 'every rlimit', edit: (s) => (s.process.rlimits = Object.keys(RLIMITS).map((type) => ({ type, hard: 10, soft: 5 }))) },
  { name: 'user fields', edit: (s) => (s.process.user = { uid: 4294967295, gid: 0, umask: 0o22, additionalGids: [5, 6], username: 'x' }) },
  { name: 'process extras', edit: (s) => {
    s.process.consoleSize = { height: 24, width: 80 };
    s.process.oomScoreAdj = -1000;
    s.process.apparmorProfile = 'unconfined';
    s.process.selinuxLabel = 'system_u:system_r:container_t:s0';
    s.process.scheduler = { policy: 'SCHED_FIFO', priority: 10, flags: ['SCHED_FLAG_RESET_ON_FORK'] };
    s.process.ioPriority = { class: 'IOPRIO_CLASS_IDLE', priority: 7 };
    s.process.execCPUAffinity = { initial: '0', final: '0-1,3' };
  } },
  { name: 'absolute root path', edit: (s) => (s.root = { path: '/var/lib/berth/rootfs' }) },
  { name: 'no root', edit: (s) => delete s.root },
  { name: 'empty hostname needs no uts namespace', edit: (s) => {
    s.hostname = '';
    s.linux.namespaces = s.linux.namespaces.filter((n: Loose) => n.type !== 'uts');
  } },
  { name: 'hostname with a joined uts namespace', edit: (s) => {
    s.linux.namespaces = s.linux.namespaces.map((n: Loose) => (n.type === 'uts' ? { type: 'uts', path: '/proc/1/ns/uts' } : n));
    s.domainname = 'example.org';
    s.hostname = 'h'.repeat(64);
  } },
  { name: 'bind mount with only a destination and options', edit: (s) => s.mounts.push({ destination: '/data', options: ['rbind', 'rw'] }) },
  { name: 'id-mapped mount', base: rootless, edit: (s) => s.mounts.push({
    destination: '/data',
    type: 'bind',
    source: '/srv/data',
    options: ['bind'],
    uidMappings: [{ containerID: 0, hostID: 100000, size: 65536 }],
    gidMappings: [{ containerID: 0, hostID: 100000, size: 65536 }],
  }) },
  { name: 'no mounts', edit: (s) => delete s.mounts },
  { name: 'all hooks', edit: (s) => {
    const hook = { path: '/usr/bin/hook', args: ['hook', 'x'], env: ['A=b'], timeout: 5 };
    s.hooks = Object.fromEntries(HOOK_NAMES.map((n) => [n, [hook]]));
  } },
  { name: 'empty hooks', edit: (s) => (s.hooks = { poststart: [] }) },
  { name: 'annotations', edit: (s) => (s.annotations = { 'org.opencontainers.image.os': 'linux', k: '' }) },
  { name: 'all namespaces', base: rootless, edit: (s) => {
    s.linux.namespaces = NAMESPACE_TYPES.map((type) => ({ type }));
    s.linux.timeOffsets = { monotonic: { secs: -100, nanosecs: 5 }, boottime: { secs: 86400 } };
  } },
  { name: 'joined namespaces', edit: (s) => (s.linux.namespaces = [
    { type: 'network', path: '/var/run/netns/x' },
    { type: 'pid', path: '/proc/1234/ns/pid' },
    { type: 'uts', path: '/proc/1234/ns/uts' },
  ]) },
  { name: 'joined user namespace without mappings', edit: (s) => s.linux.namespaces.push({ type: 'user', path: '/proc/1234/ns/user' }) },
  { name: 'joined user namespace with mappings', edit: (s) => {
    s.linux.namespaces.push({ type: 'user', path: '/proc/1234/ns/user' });
    s.linux.uidMappings = [{ containerID: 0, hostID: 1000, size: 1 }];
    s.linux.gidMappings = [{ containerID: 0, hostID: 1000, size: 1 }];
  } },
  { name: 'no namespaces', edit: (s) => {
    delete s.hostname;
    delete s.linux.namespaces;
  } },
  { name: 'several adjacent mappings', base: rootless, edit: (s) => {
    s.linux.uidMappings = [
      { containerID: 0, hostID: 1000, size: 1 },
      { containerID: 1, hostID: 100000, size: 65535 },
      { containerID: 4294967294, hostID: 4294967294, size: 1 },
    ];
    s.process.user = { uid: 65535, gid: 0, additionalGids: [0] };
  } },
  { name: '340 mappings', base: rootless, edit: (s) => {
    s.linux.uidMappings = Array.from({ length: 340 }, (_, i) => ({ containerID: i, hostID: 100000 + i, size: 1 }));
  } },
  ...ROOTFS_PROPAGATIONS.map((p) => ({ name: `rootfsPropagation ${p}`, edit: (s: Loose) => (s.linux.rootfsPropagation = p) })),
  { name: 'namespaced sysctls', edit: (s) => (s.linux.sysctl = {
    'net.ipv4.ip_forward': '1',
    'net/core/somaxconn': '256',
    'kernel.shmmax': '1000',
    'kernel.msgmax': '8192',
    'fs.mqueue.msg_max': '10',
    'kernel.domainname': 'example.org',
  }) },
  { name: 'linux extras', edit: (s) => {
    s.linux.cgroupsPath = '/berth/c1';
    s.linux.mountLabel = 'system_u:object_r:container_file_t:s0';
    s.linux.devices = [
      { path: '/dev/fuse', type: 'c', major: 10, minor: 229, fileMode: 438, uid: 0, gid: 0 },
      { path: '/dev/fifo', type: 'p' },
    ];
    s.linux.intelRdt = { closID: 'guaranteed_group', l3CacheSchema: 'L3:0=7f0;1=1f', memBwSchema: 'MB:0=20;1=70', enableCMT: true };
    s.linux.personality = { domain: 'LINUX32', flags: [] };
    s.linux.maskedPaths = [];
  } },
  { name: 'all resources', edit: (s) => (s.linux.resources = {
    devices: [
      { allow: false, access: 'rwm' },
      { allow: true, type: 'c', major: 10, minor: 229, access: 'rw' },
      { allow: true, type: 'b', major: -1, minor: -1, access: 'r' },
    ],
    memory: { limit: 536870912, reservation: 536870912, swap: -1, kernel: -1, kernelTCP: -1, swappiness: 0, disableOOMKiller: false, useHierarchy: true, checkBeforeUpdate: true },
    cpu: { shares: 1024, quota: 1000000, burst: 1000000, period: 500000, realtimeRuntime: 950000, realtimePeriod: 1000000, cpus: '2-3', mems: '0-7', idle: 0 },
    pids: { limit: 32771 },
    blockIO: {
      weight: 10,
      leafWeight: 10,
      weightDevice: [{ major: 8, minor: 0, weight: 500, leafWeight: 300 }, { major: 8, minor: 16, weight: 500 }],
      throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 600 }],
      throttleWriteIOPSDevice: [{ major: 8, minor: 16, rate: 300 }],
    },
    hugepageLimits: [{ pageSize: '2MB', limit: 209715200 }, { pageSize: '64KB', limit: 1000000 }],
    network: { classID: 1048577, priorities: [{ name: 'eth0', priority: 500 }] },
    rdma: { mlx5_1: { hcaHandles: 3, hcaObjects: 10000 }, mlx4_0: { hcaObjects: 1000 } },
    unified: { 'io.max': '259:0 rbps=2097152 wiops=120', 'hugetlb.1GB.max': '1073741824' },
  }) },
  { name: 'unlimited quota with burst', edit: (s) => (s.linux.resources.cpu = { quota: -1, burst: 5000 }) },
  { name: 'seccomp', edit: (s) => (s.linux.seccomp = {
    defaultAction: 'SCMP_ACT_ERRNO',
    defaultErrnoRet: 1,
    architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
    flags: ['SECCOMP_FILTER_FLAG_LOG'],
    listenerPath: '/run/seccomp-agent.sock',
    listenerMetadata: 'MKNOD=/dev/null',
    syscalls: [
      { names: ['read', 'write'], action: 'SCMP_ACT_ALLOW' },
      { names: ['mknod'], action: 'SCMP_ACT_NOTIFY' },
      { names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 4294967295, op: 'SCMP_CMP_EQ' }] },
      { names: ['clone'], action: 'SCMP_ACT_ERRNO', errnoRet: 38, args: [{ index: 0, value: 2114060288, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' }] },
    ],
  }) },
  {
    name: 'unknown keys are kept',
    edit: (s) => {
      s['x-berth'] = { a: [1, { b: null }] };
      s.process.extra = true;
      s.linux.netDevices = { eth0: { name: 'ctr0' } };
      s.hooks = { postStart: 'not ours' };
    },
    check: (tt, out) => {
      const o = out as Loose;
      tt.strictSame(o['x-berth'], { a: [1, { b: null }] });
      tt.equal(o.process.extra, true);
      tt.strictSame(o.linux.netDevices, { eth0: { name: 'ctr0' } });
      tt.equal(o.hooks.postStart, 'not ours');
    },
  },
  {
    name: 'undefined properties are dropped',
    edit: (s) => {
      s.domainname = undefined;
      s.process.apparmorProfile = undefined;
      s.linux.seccomp = undefined;
    },
    check: (tt, out) => {
      tt.notOk('domainname' in out);
      tt.notOk('apparmorProfile' in out.process!);
      tt.notOk('seccomp' in out.linux!);
      tt.strictSame(out, runcSpec);
    },
  },
];

t.test('valid edge cases pass', async (tt) => {
  for (const c of good) {
    const s = c.base ? c.base() : defaultSpec();
    c.edit(s);
    let out: Spec | undefined;
    try {
      out = validateSpec(s);
    } catch (e) {
      tt.fail(`${c.name}: ${String(e)}`);
      continue;
    }
    tt.pass(c.name);
    if (c.check) c.check(tt, out);
    else tt.strictSame(out, JSON.parse(JSON.stringify(s)), `${c.name}: returned unchanged`);
  }
});

t.test('validateSpec does not modify its input and returns a copy', async (tt) => {
  const input = deepFreeze(defaultSpec({ rootless: true }));
  const before = clone(input);
  const out = validateSpec(input);
  tt.strictSame(input, before);
  tt.strictSame(out, before);
  tt.not(out, input);
  tt.not(out.process, input.process);
  tt.not(out.process!.args, input.process!.args);
  tt.not(out.linux!.uidMappings![0], input.linux!.uidMappings![0]);
  tt.notOk(Object.isFrozen(out), 'the copy is the caller\'s to change');
});

t.test('a "__proto__" key stays data', async (tt) => {
  const out = parseSpecJson('{"ociVersion":"1.0.2","annotations":{"__proto__":"x"},"x":{"__proto__":{"polluted":true}}}');
  tt.equal(Object.getPrototypeOf(out.annotations), Object.prototype);
  tt.strictSame(Object.keys(out.annotations!), ['__proto__']);
  tt.equal(out.annotations!['__proto__'], 'x');
  tt.equal((out as Loose).x.polluted, undefined);
  tt.equal(({} as Loose).polluted, undefined);
});

// ------------------------------------------------------------ parseSpecJson

t.test('parseSpecJson', async (tt) => {
  tt.strictSame(parseSpecJson(JSON.stringify(defaultSpec())), runcSpec);
  tt.strictSame(parseSpecJson('\uFEFF' + runcText), runcSpec, 'a byte-order mark is skipped');

  // RLIM_INFINITY as runc writes it (2^64 - 1) is accepted.
  const inf = runcText.replace('"hard": 1024', '"hard": 18446744073709551615');
  tt.equal(parseSpecJson(inf).process?.rlimits?.[0].hard, 2 ** 64);

  let err: unknown;
  try {
    parseSpecJson('{"ociVersion": "1.0.2",\n  "process": }', '/bundle/config.json');
  } catch (e) {
    err = e;
  }
  tt.ok(err instanceof SpecError, 'syntax error is a SpecError');
  const se = err as SpecError;
  tt.equal(se.field, '(root)');
  tt.match(se.message, /^\(root\): invalid JSON in \/bundle\/config\.json: /);
  tt.match(se.message, /\(line 2, column 14\)$/, 'points at the bad token');
  tt.equal(se.source, '/bundle/config.json');
  tt.equal(se.code, 'EINVAL');

  throwsSpecError(
    tt,
    () => parseSpecJson(''),
    '(root)',
    '(root): invalid JSON: Unexpected end of JSON input (line 1, column 1)',
  );
  throwsSpecError(tt, () => parseSpecJson('[]'), '(root)', '(root): must be an object');
  throwsSpecError(tt, () => parseSpecJson('null'), '(root)', '(root): must be an object');

  // Validation errors keep the exact "<field>: <problem>" message and carry the source.
  try {
    parseSpecJson('{"ociVersion":"1.0.2","process":{"user":{"uid":0,"gid":0},"args":["sh"],"cwd":"."}}', 'c.json');
    tt.fail('expected an error');
  } catch (e) {
    tt.ok(e instanceof SpecError);
    tt.equal((e as SpecError).message, 'process.cwd: must be an absolute path');
    tt.equal((e as SpecError).source, 'c.json');
  }
});

t.test('JSON syntax errors name the line and column', async (tt) => {
  const cases: [string, string][] = [
    ['{"ociVersion": "1.0.2",\n  "process": }', 'line 2, column 14'],
    ['{"a": 1,\n ,}', 'line 2, column 2'],
    ['{"a":1} x', 'line 1, column 9'],
    ['{\n  "ociVersion": "1.0.2"\n  "process": {}\n}', 'line 3, column 3'],
    ['{"a": "\\x"}', 'line 1, column 9'],
    ['{"a": "\\u12G4"}', 'line 1, column 12'],
    ['{"a": tru}', 'line 1, column 10'],
    ['{"a": "b', 'line 1, column 9'],
    ['{"a": [1, 2,]}', 'line 1, column 13'],
    ['{"a": 01}', 'line 1, column 8'],
    ['{"a": "tab\there"}', 'line 1, column 11'],
    ['{\r\n"a": -}', 'line 2, column 7'],
    ['{"a": 1.}', 'line 1, column 9'],
    ['{"a": 1e+}', 'line 1, column 10'],
  ];
  for (const [text, where] of cases) {
    let err: unknown;
    try {
      parseSpecJson(text);
    } catch (e) {
      err = e;
    }
    tt.ok(err instanceof SpecError, `${JSON.stringify(text)}: SpecError`);
    tt.equal((err as SpecError).field, '(root)');
    tt.match((err as SpecError).message, /^\(root\): invalid JSON: /);
    tt.ok((err as SpecError).message.endsWith(`(${where})`), `${JSON.stringify(text)}: ${where} in ${(err as SpecError).message}`);
  }
});
