// The default config.json (the one `runc spec` writes) and the constant
// tables that the rest of berth reads: namespace kinds, capability numbers,
// rlimit resource numbers and the enumerations the spec allows. These tables
// are the single source of truth; `berth features` prints them.

import type {
  IOPriorityClass,
  NamespaceType,
  RootfsPropagation,
  SchedulerFlag,
  SchedulerPolicy,
  SeccompAction,
  SeccompOperator,
  HookName,
  Spec,
} from './types.js';

/** Every namespace kind the spec defines, in the spec's order. */
export const NAMESPACE_TYPES: readonly NamespaceType[] = Object.freeze([
  'pid',
  'network',
  'mount',
  'ipc',
  'uts',
  'user',
  'cgroup',
  'time',
] as const);

/** clone(2)/unshare(2)/setns(2) flag of each namespace kind (linux/sched.h). */
export const NAMESPACE_CLONE_FLAGS: Readonly<Record<NamespaceType, number>> = Object.freeze({
  pid: 0x20000000, // CLONE_NEWPID
  network: 0x40000000, // CLONE_NEWNET
  mount: 0x00020000, // CLONE_NEWNS
  ipc: 0x08000000, // CLONE_NEWIPC
  uts: 0x04000000, // CLONE_NEWUTS
  user: 0x10000000, // CLONE_NEWUSER
  cgroup: 0x02000000, // CLONE_NEWCGROUP
  time: 0x00000080, // CLONE_NEWTIME
});

/** File name of each namespace kind under /proc/<pid>/ns/. */
export const NAMESPACE_PROC_NAMES: Readonly<Record<NamespaceType, string>> = Object.freeze({
  pid: 'pid',
  network: 'net',
  mount: 'mnt',
  ipc: 'ipc',
  uts: 'uts',
  user: 'user',
  cgroup: 'cgroup',
  time: 'time',
});

/** Linux capability names and numbers (linux/capability.h), 0 .. 40. */
export const CAPABILITIES = Object.freeze({
  CAP_CHOWN: 0,
  CAP_DAC_OVERRIDE: 1,
  CAP_DAC_READ_SEARCH: 2,
  CAP_FOWNER: 3,
  CAP_FSETID: 4,
  CAP_KILL: 5,
  CAP_SETGID: 6,
  CAP_SETUID: 7,
  CAP_SETPCAP: 8,
  CAP_LINUX_IMMUTABLE: 9,
  CAP_NET_BIND_SERVICE: 10,
  CAP_NET_BROADCAST: 11,
  CAP_NET_ADMIN: 12,
  CAP_NET_RAW: 13,
  CAP_IPC_LOCK: 14,
  CAP_IPC_OWNER: 15,
  CAP_SYS_MODULE: 16,
  CAP_SYS_RAWIO: 17,
  CAP_SYS_CHROOT: 18,
  CAP_SYS_PTRACE: 19,
  CAP_SYS_PACCT: 20,
  CAP_SYS_ADMIN: 21,
  CAP_SYS_BOOT: 22,
  CAP_SYS_NICE: 23,
  CAP_SYS_RESOURCE: 24,
  CAP_SYS_TIME: 25,
  CAP_SYS_TTY_CONFIG: 26,
  CAP_MKNOD: 27,
  CAP_LEASE: 28,
  CAP_AUDIT_WRITE: 29,
  CAP_AUDIT_CONTROL: 30,
  CAP_SETFCAP: 31,
  CAP_MAC_OVERRIDE: 32,
  CAP_MAC_ADMIN: 33,
  CAP_SYSLOG: 34,
  CAP_WAKE_ALARM: 35,
  CAP_BLOCK_SUSPEND: 36,
  CAP_AUDIT_READ: 37,
  CAP_PERFMON: 38,
  CAP_BPF: 39,
  CAP_CHECKPOINT_RESTORE: 40,
} as const);

export type CapabilityName = keyof typeof CAPABILITIES;

/** setrlimit(2) resource names and numbers on Linux x86_64 (asm-generic/resource.h). */
export const RLIMITS = Object.freeze({
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
} as const);

export type RlimitName = keyof typeof RLIMITS;

/** Values allowed in `linux.rootfsPropagation`. */
export const ROOTFS_PROPAGATIONS: readonly RootfsPropagation[] = Object.freeze([
  'shared',
  'slave',
  'private',
  'unbindable',
  'rshared',
  'rslave',
  'rprivate',
  'runbindable',
] as const);

/** The lists in `hooks`, in lifecycle order. */
export const HOOK_NAMES: readonly HookName[] = Object.freeze([
  'prestart',
  'createRuntime',
  'createContainer',
  'startContainer',
  'poststart',
  'poststop',
] as const);

export const SECCOMP_ACTIONS: readonly SeccompAction[] = Object.freeze([
  'SCMP_ACT_KILL',
  'SCMP_ACT_KILL_PROCESS',
  'SCMP_ACT_KILL_THREAD',
  'SCMP_ACT_TRAP',
  'SCMP_ACT_ERRNO',
  'SCMP_ACT_TRACE',
  'SCMP_ACT_ALLOW',
  'SCMP_ACT_LOG',
  'SCMP_ACT_NOTIFY',
] as const);

export const SECCOMP_OPERATORS: readonly SeccompOperator[] = Object.freeze([
  'SCMP_CMP_NE',
  'SCMP_CMP_LT',
  'SCMP_CMP_LE',
  'SCMP_CMP_EQ',
  'SCMP_CMP_GE',
  'SCMP_CMP_GT',
  'SCMP_CMP_MASKED_EQ',
] as const);

export const SECCOMP_FLAGS: readonly string[] = Object.freeze([
  'SECCOMP_FILTER_FLAG_TSYNC',
  'SECCOMP_FILTER_FLAG_LOG',
  'SECCOMP_FILTER_FLAG_SPEC_ALLOW',
  'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV',
]);

/** Architectures libseccomp 2.5 knows (the spec's list). */
export const SECCOMP_ARCHITECTURES: readonly string[] = Object.freeze([
  'SCMP_ARCH_X86',
  'SCMP_ARCH_X86_64',
  'SCMP_ARCH_X32',
  'SCMP_ARCH_ARM',
  'SCMP_ARCH_AARCH64',
  'SCMP_ARCH_MIPS',
  'SCMP_ARCH_MIPS64',
  'SCMP_ARCH_MIPS64N32',
  'SCMP_ARCH_MIPSEL',
  'SCMP_ARCH_MIPSEL64',
  'SCMP_ARCH_MIPSEL64N32',
  'SCMP_ARCH_PPC',
  'SCMP_ARCH_PPC64',
  'SCMP_ARCH_PPC64LE',
  'SCMP_ARCH_S390',
  'SCMP_ARCH_S390X',
  'SCMP_ARCH_PARISC',
  'SCMP_ARCH_PARISC64',
  'SCMP_ARCH_RISCV64',
]);

export const SCHEDULER_POLICIES: readonly SchedulerPolicy[] = Object.freeze([
  'SCHED_OTHER',
  'SCHED_FIFO',
  'SCHED_RR',
  'SCHED_BATCH',
  'SCHED_ISO',
  'SCHED_IDLE',
  'SCHED_DEADLINE',
] as const);

export const SCHEDULER_FLAGS: readonly SchedulerFlag[] = Object.freeze([
  'SCHED_FLAG_RESET_ON_FORK',
  'SCHED_FLAG_RECLAIM',
  'SCHED_FLAG_DL_OVERRUN',
  'SCHED_FLAG_KEEP_POLICY',
  'SCHED_FLAG_KEEP_PARAMS',
  'SCHED_FLAG_UTIL_CLAMP_MIN',
  'SCHED_FLAG_UTIL_CLAMP_MAX',
] as const);

export const IOPRIO_CLASSES: readonly IOPriorityClass[] = Object.freeze([
  'IOPRIO_CLASS_RT',
  'IOPRIO_CLASS_BE',
  'IOPRIO_CLASS_IDLE',
] as const);

/** The `ociVersion` that `runc spec` (runc 1.1, Debian 12) writes. */
export const DEFAULT_OCI_VERSION = '1.0.2-dev';

export interface DefaultSpecOptions {
  /** Produce what `runc spec --rootless` prints. */
  rootless?: boolean;
  /** Replaces the default `["sh"]` (the array is copied). */
  args?: string[];
  /**
   * Rootless only: host uid/gid that container root maps to. `runc spec
   * --rootless` uses the effective uid/gid of the caller; so does this by
   * default.
   */
  hostUid?: number;
  hostGid?: number;
}

const DEFAULT_CAPS = ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'];

const MASKED_PATHS = [
  '/proc/acpi',
  '/proc/asound',
  '/proc/kcore',
  '/proc/keys',
  '/proc/latency_stats',
  '/proc/timer_list',
  '/proc/timer_stats',
  '/proc/sched_debug',
  '/sys/firmware',
  '/proc/scsi',
];

const READONLY_PATHS = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

/**
 * A fresh copy of the config.json that `runc spec` (or, with `rootless`,
 * `runc spec --rootless`) writes, field for field and in the same key order.
 */
export function defaultSpec(opts: DefaultSpecOptions = {}): Spec {
  const rootless = opts.rootless === true;
  const spec: Spec = {
    ociVersion: DEFAULT_OCI_VERSION,
    process: {
      terminal: true,
      user: { uid: 0, gid: 0 },
      args: opts.args ? [...opts.args] : ['sh'],
      env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'TERM=xterm'],
      cwd: '/',
      capabilities: {
        bounding: [...DEFAULT_CAPS],
        effective: [...DEFAULT_CAPS],
        permitted: [...DEFAULT_CAPS],
        ambient: [...DEFAULT_CAPS],
      },
      rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }],
      noNewPrivileges: true,
    },
    root: { path: 'rootfs', readonly: true },
    hostname: 'runc',
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      {
        destination: '/dev',
        type: 'tmpfs',
        source: 'tmpfs',
        options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'],
      },
      {
        destination: '/dev/pts',
        type: 'devpts',
        source: 'devpts',
        // Rootless drops gid=5: the tty group is not mapped in the user namespace.
        options: rootless
          ? ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620']
          : ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'],
      },
      {
        destination: '/dev/shm',
        type: 'tmpfs',
        source: 'shm',
        options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'],
      },
      {
        destination: '/dev/mqueue',
        type: 'mqueue',
        source: 'mqueue',
        options: ['nosuid', 'noexec', 'nodev'],
      },
      // Rootless can't mount a fresh sysfs without its own network namespace,
      // so it bind-mounts the host's.
      rootless
        ? {
            destination: '/sys',
            type: 'none',
            source: '/sys',
            options: ['rbind', 'nosuid', 'noexec', 'nodev', 'ro'],
          }
        : {
            destination: '/sys',
            type: 'sysfs',
            source: 'sysfs',
            options: ['nosuid', 'noexec', 'nodev', 'ro'],
          },
      {
        destination: '/sys/fs/cgroup',
        type: 'cgroup',
        source: 'cgroup',
        options: ['nosuid', 'noexec', 'nodev', 'relatime', 'ro'],
      },
    ],
    linux: rootless
      ? {
          uidMappings: [{ containerID: 0, hostID: opts.hostUid ?? currentId('geteuid'), size: 1 }],
          gidMappings: [{ containerID: 0, hostID: opts.hostGid ?? currentId('getegid'), size: 1 }],
          namespaces: [
            { type: 'pid' },
            { type: 'ipc' },
            { type: 'uts' },
            { type: 'mount' },
            { type: 'user' },
          ],
          maskedPaths: [...MASKED_PATHS],
          readonlyPaths: [...READONLY_PATHS],
        }
      : {
          resources: { devices: [{ allow: false, access: 'rwm' }] },
          namespaces: [
            { type: 'pid' },
            { type: 'network' },
            { type: 'ipc' },
            { type: 'uts' },
            { type: 'mount' },
          ],
          maskedPaths: [...MASKED_PATHS],
          readonlyPaths: [...READONLY_PATHS],
        },
  };
  return spec;
}

function currentId(fn: 'geteuid' | 'getegid'): number {
  const get = process[fn];
  return typeof get === 'function' ? get() : 0;
}
