// Turns a validated spec into the plan the setup process runs: plain data,
// no I/O. The order follows runc's: join and create namespaces, fork into
// the container process, set up the root, then the process, then exec.
import { isAbsolute, resolve } from 'node:path';
import { NAMESPACE_CLONE_FLAGS, RLIMITS } from '../spec/defaults.js';
import { SpecError } from '../spec/errors.js';
import type { Hooks, Namespace, NamespaceType, Process, Seccomp, Spec } from '../spec/types.js';
import { hookOps, type HookState } from './hooks.js';
import { NAMESPACE_PROC_NAMES } from '../spec/defaults.js';
import { MOUNT_ATTR, MS, PROPAGATION } from '../mounts/flags.js';
import { mountOps } from '../mounts/plan.js';
import { cgroupPlacement } from '../cgroups/index.js';
import { overlayPlan, type OverlayRootfs } from '../mounts/overlay.js';
import { capMask } from './caps.js';
import { compileSeccomp } from './seccomp.js';
import type { HostFacts } from './host.js';
import type { Op } from './protocol.js';

export interface PlanInput {
  spec: Spec;
  /** The bundle directory: relative root.path and mount sources resolve against it. */
  bundle: string;
  host: HostFacts;
  /** How many fds beyond stdio the container keeps (3 .. 3+n-1). */
  preserveFds: number;
  /** The root is this overlay, mounted at root.path inside the container's mount namespace (src/mounts/overlay.ts). */
  overlay?: OverlayRootfs;
  /** OCI `create`: the process waits on this fifo for `start`, and the monitor leaves (see detach). */
  execFifo?: string;
  /** process.terminal: where the pty master is sent (runc's --console-socket). */
  consoleSocket?: string;
  /** The monitor leaves once the process runs (or waits on execFifo), so the caller's subreaper adopts it. */
  detach?: boolean;
  /**
   * The container gets a cgroup (Launch's `cgroup`). cgroup v2: its process is
   * cloned into it (CLONE_INTO_CGROUP, through the directory fd Launch
   * passes) and the monitor stays outside; v1: Node puts the setup process
   * into it at `sync cgroup`, before any namespace exists.
   */
  cgroup?: boolean;
  /** false: exec as soon as set up, without waiting for start (one round trip less, for run()). */
  waitForStart?: boolean;
  /** The container id, for the state hooks are given. */
  id?: string;
  /** A stub init is pid 1 and the process pid 2 (nspawn's --as-pid2; native/setup/stubinit.cc). */
  init?: boolean;
}

/** `berth exec`: a new process in the namespaces of a running container. */
export interface ExecPlanInput {
  process: Process;
  /** The container's process (host pid) and its namespace types. */
  pid: number;
  namespaces: readonly NamespaceType[];
  preserveFds: number;
  consoleSocket?: string;
  detach?: boolean;
  /** As PlanInput's: the new process joins the container's cgroup first. */
  cgroup?: boolean;
  /** The container's linux.seccomp: exec'd processes get the same filter. */
  seccomp?: Seccomp;
}

export interface Plan {
  ops: Op[];
  /** What the spec asks that this host cannot do and berth leaves out (AppArmor, SELinux labels). */
  warnings: string[];
  /** prestart/createRuntime hooks, which Node runs at `sync hooks`. */
  hooks?: { hooks: Hooks; state: Omit<HookState, 'pid'> };
  /** The process waits for Node's start (else it execs right away). */
  waitForStart: boolean;
  /** Absolute rootfs path. */
  rootfs: string;
  /** Set when the plan makes a user namespace: the maps Node writes at `sync userns`. */
  userns?: { uidMappings: string; gidMappings: string };
  /** cgroup v2: Launch passes the container's cgroup directory as this fd (right after the sync socket), for the fork op. */
  cgroupFd?: number;
}

const RLIM_INFINITY = (1n << 64n) - 1n;

function rlimitValue(v: number): bigint {
  return v >= 2 ** 64 - 1 || v < 0 ? RLIM_INFINITY : BigInt(Math.trunc(v));
}

const mapText = (m: { containerID: number; hostID: number; size: number }[] | undefined) =>
  (m ?? []).map((x) => `${x.containerID} ${x.hostID} ${x.size}\n`).join('');

function namespaceOps(namespaces: readonly Namespace[], spec: Spec | undefined, detach: boolean, pidAck: boolean, cgroupFd = -1): { ops: Op[]; newTypes: Set<NamespaceType> } {
  const ops: Op[] = [];
  const joins = namespaces.filter((n) => n.path).sort((a, b) => Number(b.type === 'user') - Number(a.type === 'user'));
  if (joins.length)
    ops.push({ op: 'join', step: 'join namespaces', namespaces: joins.map((n) => ({ flag: NAMESPACE_CLONE_FLAGS[n.type], path: n.path! })) });
  if (joins.some((n) => n.type === 'user')) ops.push({ op: 'setid0', step: 'join namespaces' });
  const newTypes = new Set(namespaces.filter((n) => !n.path).map((n) => n.type));
  if (newTypes.has('user')) {
    if (!spec?.linux?.uidMappings?.length || !spec.linux?.gidMappings?.length)
      throw new SpecError('linux.uidMappings', 'a new user namespace needs linux.uidMappings and linux.gidMappings');
    ops.push(
      { op: 'unshare', step: 'create user namespace', flags: NAMESPACE_CLONE_FLAGS.user },
      { op: 'sync', step: 'write uid/gid maps', name: 'userns' },
      { op: 'setid0', step: 'become root in the user namespace' },
    );
  }
  let flags = 0;
  for (const t of newTypes) if (t !== 'user') flags |= NAMESPACE_CLONE_FLAGS[t];
  // Cloned into its cgroup: new pid and cgroup namespaces are made with the process (see native/setup/ns.cc).
  const cloneFlags = cgroupFd >= 0 ? flags & (NAMESPACE_CLONE_FLAGS.pid | NAMESPACE_CLONE_FLAGS.cgroup) : 0;
  flags &= ~cloneFlags;
  if (flags) ops.push({ op: 'unshare', step: 'create namespaces', flags });
  ops.push({ op: 'fork', step: 'start the container process', detach, pidAck, ...(cgroupFd >= 0 && { cgroupFd, cloneFlags }) });
  return { ops, newTypes };
}

interface ProcessOpts {
  preserveFds: number;
  /** startContainer hooks, run after start and before exec. */
  startHooks?: Op[];
  seccomp?: { program: Buffer; flags: number };
  waitForStart?: boolean;
  execFifo?: string;
  consoleSocket?: string;
  init?: boolean;
}

/** The process part, shared by create and exec: terminal, limits, credentials, wait, exec. */
function processOps(proc: Process, o: ProcessOpts): Op[] {
  // The stub stays pid 1 as root; everything after it (terminal, credentials, start, exec) is the payload's.
  const ops: Op[] = o.init ? [{ op: 'stubinit', step: 'start the stub init' }] : [];
  const user = proc.user ?? { uid: 0, gid: 0 };
  if (proc.terminal) {
    if (!o.consoleSocket) throw new SpecError('process.terminal', 'a terminal needs a console socket (--console-socket)');
    ops.push({ op: 'pty', step: 'set up the terminal', uid: user.uid, rows: proc.consoleSize?.height ?? 0, cols: proc.consoleSize?.width ?? 0 });
  }
  for (const r of proc.rlimits ?? [])
    ops.push({ op: 'rlimit', step: `set ${r.type}`, resource: (RLIMITS as Record<string, number>)[r.type]!, soft: rlimitValue(r.soft), hard: rlimitValue(r.hard) });
  if (proc.oomScoreAdj !== undefined) ops.push({ op: 'oomscore', step: 'set oom_score_adj', score: proc.oomScoreAdj });
  const caps = proc.capabilities ?? {};
  const inheritable = capMask(caps.inheritable);
  const permitted = capMask(caps.permitted);
  const env = proc.env ?? [];
  const searchPath = env.findLast((e) => e.startsWith('PATH='))?.slice(5) ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
  const seccomp: Op | undefined = o.seccomp && { op: 'seccomp', step: 'load seccomp filter', flags: o.seccomp.flags, program: o.seccomp.program };
  // fds first: a profile need not allow close_range.
  ops.push({ op: 'closefds', step: 'close fds', from: 3 + o.preserveFds });
  // Without no_new_privs the kernel wants CAP_SYS_ADMIN to load a filter:
  // load it while we are still root. With it, as late as possible (runc's order).
  if (seccomp && !proc.noNewPrivileges) ops.push(seccomp);
  ops.push(
    { op: 'bounding', step: 'set capabilities', keep: capMask(caps.bounding) },
    { op: 'keepcaps', step: 'set user' },
    { op: 'user', step: 'set user', uid: user.uid, gid: user.gid, groups: user.additionalGids ?? [] },
    {
      op: 'caps',
      step: 'set capabilities',
      effective: capMask(caps.effective),
      permitted,
      inheritable,
      // The kernel raises an ambient capability only if it is also permitted
      // and inheritable; like runc, the others are left out.
      ambient: capMask(caps.ambient) & permitted & inheritable,
    },
    { op: 'chdir', step: 'set cwd', path: proc.cwd || '/' },
  );
  if (proc.noNewPrivileges) ops.push({ op: 'nnp', step: 'set no_new_privs' });
  if (seccomp && proc.noNewPrivileges) ops.push(seccomp);
  ops.push({ op: 'umask', step: 'set umask', mask: user.umask ?? 0o022 });
  // With a fifo nobody hears a failed exec: find out now, as runc does.
  if (o.execFifo) ops.push({ op: 'checkexec', step: 'exec', name: proc.args![0]!, searchPath });
  if (o.waitForStart !== false || o.execFifo) ops.push({ op: 'ready', step: 'wait for start', mode: o.execFifo ? 'fifo' : 'socket' });
  ops.push(...(o.startHooks ?? []));
  ops.push({ op: 'exec', step: 'exec', path: proc.args![0]!, args: proc.args!, env });
  return ops;
}

function hookStateBase(spec: Spec, input: PlanInput, status: string): Omit<HookState, 'pid'> {
  return { ociVersion: spec.ociVersion, id: input.id ?? '', status, bundle: input.bundle, annotations: spec.annotations ?? {} };
}

/** Before pivot_root: note the host pid; prestart/createRuntime in Node; createContainer here. */
function createHookOps(spec: Spec, input: PlanInput): Op[] {
  const h = spec.hooks;
  if (!h || !['prestart', 'createRuntime', 'createContainer', 'startContainer'].some((n) => h[n as keyof Hooks]?.length)) return [];
  const ops: Op[] = [{ op: 'hostpid', step: 'run hooks' }];
  if (h.prestart?.length || h.createRuntime?.length) ops.push({ op: 'sync', step: 'createRuntime hooks', name: 'hooks' });
  ops.push(...hookOps(h, 'createContainer', hookStateBase(spec, input, 'creating')));
  return ops;
}

function rootfsOps(spec: Spec, input: PlanInput, rootfs: string, userns: boolean, overlay: Op[]): Op[] {
  const linux = spec.linux ?? {};
  const prop = PROPAGATION[linux.rootfsPropagation ?? 'rslave']!;
  const s = 'set up rootfs';
  const ops: Op[] = [
    { op: 'mount', step: s, source: '', target: '/', fstype: '', flags: prop.flag | (prop.recursive ? MS.REC : 0), data: '', where: 'host', create: 'none' },
    ...overlay,
    { op: 'parentprivate', step: s, path: rootfs },
    { op: 'mount', step: s, source: rootfs, target: rootfs, fstype: '', flags: MS.BIND | MS.REC, data: '', where: 'host', create: 'none' },
    { op: 'rootfs', step: s, path: rootfs },
    ...mountOps({ mounts: spec.mounts ?? [], devices: linux.devices ?? [], bundle: input.bundle, userns, host: input.host, cgroupPath: input.cgroup && input.id ? cgroupPlacement(linux.cgroupsPath, input.id) : undefined }),
  ];
  // Paths on the host are out of reach after pivot_root: open them now.
  if (input.execFifo) ops.push({ op: 'openfifo', step: 'open the exec fifo', path: input.execFifo });
  if (input.consoleSocket && spec.process?.terminal) ops.push({ op: 'console', step: 'connect the console socket', path: input.consoleSocket });
  if (spec.process?.cwd) ops.push({ op: 'mkdir', step: 'create cwd', path: spec.process.cwd, mode: 0o755 });
  ops.push(...createHookOps(spec, input));
  ops.push({ op: 'pivot', step: 'pivot_root' });
  if (linux.rootfsPropagation)
    ops.push({ op: 'setattr', step: s, target: '/', where: 'host', attrSet: 0, attrClr: 0, propagation: prop.flag, recursive: prop.recursive });
  for (const [key, value] of Object.entries(linux.sysctl ?? {}))
    ops.push({ op: 'sysctl', step: `set sysctl ${key}`, key: key.replace(/\./g, '/'), value });
  for (const p of linux.readonlyPaths ?? []) ops.push({ op: 'readonly', step: 'set read-only paths', path: p });
  for (const p of linux.maskedPaths ?? []) ops.push({ op: 'mask', step: 'mask paths', path: p });
  if (spec.root?.readonly)
    ops.push({ op: 'setattr', step: 'make rootfs read-only', target: '/', where: 'root', attrSet: MOUNT_ATTR.RDONLY, attrClr: 0, propagation: 0, recursive: false });
  return ops;
}

const CGROUP_SYNC: Op = { op: 'sync', step: 'join cgroup', name: 'cgroup' };

/**
 * AppArmor and SELinux: on a host without them the fields are left out with
 * a warning (runc and crun refuse); on a host with them berth cannot apply
 * them yet, so it refuses rather than run the process unconfined.
 */
function securityWarnings(spec: Spec, host: HostFacts): string[] {
  const w: string[] = [];
  const check = (value: string | undefined, field: string, on: boolean, name: string) => {
    if (!value) return;
    if (on) throw new SpecError(field, `${name} is enabled on this host, and berth cannot apply ${name} labels yet`);
    w.push(`${field}: ${JSON.stringify(value)} ignored: ${name} is not enabled on this host`);
  };
  check(spec.process?.apparmorProfile, 'process.apparmorProfile', host.apparmor, 'AppArmor');
  check(spec.process?.selinuxLabel, 'process.selinuxLabel', host.selinux, 'SELinux');
  check(spec.linux?.mountLabel, 'linux.mountLabel', host.selinux, 'SELinux');
  // Fields berth does not apply yet: refused, never silently dropped.
  const unsupported: [unknown, string][] = [
    [spec.linux?.timeOffsets, 'linux.timeOffsets'],
    [spec.linux?.personality, 'linux.personality'],
    [spec.linux?.intelRdt, 'linux.intelRdt'],
    [spec.process?.scheduler, 'process.scheduler'],
    [spec.process?.ioPriority, 'process.ioPriority'],
    [spec.process?.execCPUAffinity, 'process.execCPUAffinity'],
  ];
  for (const [v, field] of unsupported) if (v !== undefined && v !== null) throw new SpecError(field, 'is not supported by berth yet');
  return w;
}

export function buildPlan(input: PlanInput): Plan {
  const { spec } = input;
  const proc = spec.process;
  if (!proc?.args?.length) throw new SpecError('process.args', 'the container has no process to run');
  if (!spec.root?.path) throw new SpecError('root.path', 'must be a non-empty string');
  const rootfs = isAbsolute(spec.root.path) ? spec.root.path : resolve(input.bundle, spec.root.path);
  // No mount namespace asked for: berth makes one anyway (as crun does)
  // rather than mount and pivot in the host's; the README says so.
  const asked = spec.linux?.namespaces ?? [];
  const namespaces = asked.some((n) => n.type === 'mount') ? asked : [...asked, { type: 'mount' as const }];

  const waitForStart = input.waitForStart !== false || !!input.execFifo;
  // cgroup v2 (the host's /sys/fs/cgroup is cgroup2): the fd after the sync socket.
  const cgroupFd = input.cgroup && input.host.cgroupMounts.some((m) => m.path === '/sys/fs/cgroup' && m.fstype === 'cgroup2') ? 4 + input.preserveFds : -1;
  const { ops, newTypes } = namespaceOps(namespaces, spec, input.detach ?? false, !waitForStart && !input.detach, cgroupFd);
  // v1, first of all: a new cgroup namespace is rooted at the cgroup its maker is in, and the container's process inherits it.
  if (input.cgroup && cgroupFd < 0) ops.unshift(CGROUP_SYNC);
  const userns = namespaces.some((n) => n.type === 'user');
  // An overlay root in a user namespace is made before it (src/mounts/overlay.ts).
  const overlay = input.overlay ? overlayPlan(input.overlay, rootfs, spec, namespaces) : { first: [], mount: [] };
  ops.unshift(...overlay.first);
  // A joined mount namespace gets the root set up in it too, as with runc.
  ops.push(...rootfsOps(spec, input, rootfs, userns, overlay.mount));

  if (spec.hostname !== undefined || spec.domainname !== undefined) {
    if (!newTypes.has('uts') && !namespaces.some((n) => n.type === 'uts'))
      throw new SpecError('hostname', 'setting a hostname needs a private "uts" namespace');
  }
  if (spec.hostname !== undefined && newTypes.has('uts')) ops.push({ op: 'hostname', step: 'set hostname', name: spec.hostname });
  if (spec.domainname !== undefined && newTypes.has('uts')) ops.push({ op: 'domainname', step: 'set domainname', name: spec.domainname });

  const seccomp = spec.linux?.seccomp && compileSeccomp(spec.linux.seccomp);
  const startHooks = hookOps(spec.hooks, 'startContainer', hookStateBase(spec, input, 'created'));
  ops.push(...processOps(proc, { ...input, seccomp, startHooks }));
  const plan: Plan = { ops, rootfs, waitForStart, warnings: securityWarnings(spec, input.host) };
  if (cgroupFd >= 0) plan.cgroupFd = cgroupFd;
  if (spec.hooks?.prestart?.length || spec.hooks?.createRuntime?.length) plan.hooks = { hooks: spec.hooks, state: hookStateBase(spec, input, 'creating') };
  if (newTypes.has('user'))
    plan.userns = { uidMappings: mapText(spec.linux?.uidMappings), gidMappings: mapText(spec.linux?.gidMappings) };
  return plan;
}

export function buildExecPlan(input: ExecPlanInput): Plan {
  const proc = input.process;
  if (!proc.args?.length) throw new SpecError('args', 'the process has no args');
  const namespaces = input.namespaces.map((type) => ({ type, path: `/proc/${input.pid}/ns/${NAMESPACE_PROC_NAMES[type]}` }));
  const { ops } = namespaceOps(namespaces, undefined, input.detach ?? false, false);
  // The socket's path is out of reach once we are in the container's mount namespace.
  if (input.consoleSocket && proc.terminal) ops.unshift({ op: 'console', step: 'connect the console socket', path: input.consoleSocket });
  if (input.cgroup) ops.unshift(CGROUP_SYNC);
  ops.push(...processOps(proc, { ...input, seccomp: input.seccomp && compileSeccomp(input.seccomp) }));
  return { ops, rootfs: '/', waitForStart: true, warnings: [] };
}
