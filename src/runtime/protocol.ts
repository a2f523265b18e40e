// The parent/child protocol with native/setup (native/protocol.md): the plan
// Node sends, and the messages the setup process sends back.

export type Where = 'host' | 'root';
export type Create = 'none' | 'dir' | 'file';

/** One primitive of the plan. `step` names what it is part of, for errors. */
export type Op = { step: string } & (
  | { op: 'join'; namespaces: { flag: number; path: string }[] }
  | { op: 'unshare'; flags: number }
  | { op: 'sync'; name: SyncName }
  | { op: 'setid0' }
  /**
   * The container process. cgroupFd: the fd (in the setup process) of its
   * cgroup v2 directory, which it is cloned into (CLONE_INTO_CGROUP; the
   * monitor stays outside), or -1; cloneFlags: namespaces made with it
   * (CLONE_NEWPID, CLONE_NEWCGROUP).
   */
  | { op: 'fork'; detach: boolean; pidAck: boolean; cgroupFd?: number; cloneFlags?: number }
  | { op: 'mount'; source: string; target: string; fstype: string; flags: number; data: string; where: Where; create: Create }
  | {
      op: 'bind';
      source: string;
      target: string;
      recursive: boolean;
      create: Create | 'auto';
      /** Attributes of the top mount only. */
      attrSet: number;
      attrClr: number;
      /** Attributes of every mount in the tree (rro, rnosuid, ...). */
      rattrSet: number;
      rattrClr: number;
      propagation: number;
      propagationRecursive: boolean;
    }
  | { op: 'setattr'; target: string; where: Where; attrSet: number; attrClr: number; propagation: number; recursive: boolean }
  | { op: 'mkdir'; path: string; mode: number }
  | { op: 'mknod'; path: string; mode: number; major: number; minor: number; uid: number; gid: number }
  | { op: 'symlink'; target: string; path: string }
  | { op: 'mask'; path: string }
  | { op: 'readonly'; path: string }
  | { op: 'parentprivate'; path: string }
  | { op: 'rootfs'; path: string }
  | { op: 'pivot' }
  | { op: 'chroot' }
  /** An overlay (lowers top first) mounted at a host path; no upper: read-only. See src/mounts/overlay.ts. */
  | { op: 'overlay'; target: string; upper: string; work: string; readonly: boolean; lower: string[] }
  /** The same overlay made detached, with idmapped lowers, before the user namespace (src/mounts/overlay.ts); attached by overlayattach. */
  | {
      op: 'overlayprep'; upper: string; work: string; readonly: boolean; lower: string[];
      usernsPath: string; uidMap: string; gidMap: string; ownerUid: number; ownerGid: number;
    }
  | { op: 'overlayattach'; target: string }
  | { op: 'hostname'; name: string }
  | { op: 'domainname'; name: string }
  | { op: 'sysctl'; key: string; value: string }
  | { op: 'rlimit'; resource: number; soft: bigint; hard: bigint }
  | { op: 'oomscore'; score: number }
  | { op: 'chdir'; path: string }
  | { op: 'umask'; mask: number }
  | { op: 'bounding'; keep: bigint }
  | { op: 'keepcaps' }
  | { op: 'user'; uid: number; gid: number; groups: number[] }
  | { op: 'caps'; effective: bigint; permitted: bigint; inheritable: bigint; ambient: bigint }
  | { op: 'nnp' }
  | { op: 'seccomp'; flags: number; program: Buffer }
  | { op: 'closefds'; from: number }
  | { op: 'openfifo'; path: string }
  | { op: 'checkexec'; name: string; searchPath: string }
  | { op: 'console'; path: string }
  | { op: 'pty'; uid: number; rows: number; cols: number }
  | { op: 'ready'; mode: 'socket' | 'fifo' }
  | { op: 'hostpid' }
  | { op: 'stubinit' }
  | { op: 'hook'; path: string; args: string[]; env: string[]; timeout: number; statePrefix: string; stateSuffix: string }
  | { op: 'exec'; path: string; args: string[]; env: string[] }
);

/** Points where the setup process waits for Node (`sync` op): write the uid/gid maps; put it into its cgroup. */
export type SyncName = 'userns' | 'cgroup' | 'hooks';

/** Messages from the setup process, one JSON object per line. */
export type Message =
  | { t: 'sync'; name: SyncName; pid: number }
  | { t: 'pid'; pid: number }
  | { t: 'ready' }
  | { t: 'started' }
  /** detach mode: the monitor has left; the container lives on under the caller's subreaper. */
  | { t: 'detached' }
  | { t: 'exit'; code?: number; signal?: number; core?: boolean }
  | SetupFailure;

export interface SetupFailure {
  t: 'error';
  step: string;
  op: string;
  index: number;
  syscall: string;
  errno: number;
  path: string;
  detail: string;
}

/** Bytes Node sends after the plan: an answer to `sync`, and `start`. */
export const ACK = 'A';
export const ABORT = 'E';
export const START = 'S';
/** Node holds a pidfd of the container process (answers `fork` with pidAck). */
export const PIDFD_HELD = 'P';

const n = (v: number | bigint | boolean) => String(typeof v === 'boolean' ? Number(v) : v);

/** The positional arguments of each op, in the order native/setup reads them. */
function args(o: Op): string[] {
  switch (o.op) {
    case 'join':
      return [n(o.namespaces.length), ...o.namespaces.flatMap((x) => [n(x.flag), x.path])];
    case 'unshare':
      return [n(o.flags)];
    case 'sync':
      return [o.name];
    case 'mount':
      return [o.source, o.target, o.fstype, n(o.flags), o.data, o.where, o.create];
    case 'bind':
      return [
        o.source, o.target, n(o.recursive), o.create,
        n(o.attrSet), n(o.attrClr), n(o.rattrSet), n(o.rattrClr),
        n(o.propagation), n(o.propagationRecursive),
      ];
    case 'setattr':
      return [o.target, o.where, n(o.attrSet), n(o.attrClr), n(o.propagation), n(o.recursive)];
    case 'mkdir':
      return [o.path, n(o.mode)];
    case 'mknod':
      return [o.path, n(o.mode), n(o.major), n(o.minor), n(o.uid), n(o.gid)];
    case 'symlink':
      return [o.target, o.path];
    case 'mask':
    case 'readonly':
    case 'parentprivate':
    case 'rootfs':
    case 'chdir':
      return [o.path];
    case 'hostname':
    case 'domainname':
      return [o.name];
    case 'sysctl':
      return [o.key, o.value];
    case 'rlimit':
      return [n(o.resource), n(o.soft), n(o.hard)];
    case 'oomscore':
      return [n(o.score)];
    case 'umask':
      return [n(o.mask)];
    case 'bounding':
      return [n(o.keep)];
    case 'user':
      return [n(o.uid), n(o.gid), n(o.groups.length), ...o.groups.map(n)];
    case 'caps':
      return [n(o.effective), n(o.permitted), n(o.inheritable), n(o.ambient)];
    case 'seccomp':
      return [n(o.flags), o.program.toString('hex')];
    case 'closefds':
      return [n(o.from)];
    case 'overlay':
      return [o.target, o.upper, o.work, n(o.readonly), n(o.lower.length), ...o.lower];
    case 'overlayprep':
      return [o.upper, o.work, n(o.readonly), o.usernsPath, o.uidMap, o.gidMap, n(o.ownerUid), n(o.ownerGid), n(o.lower.length), ...o.lower];
    case 'overlayattach':
      return [o.target];
    case 'fork':
      return [n(o.detach), n(o.pidAck), n(o.cgroupFd ?? -1), n(o.cloneFlags ?? 0)];
    case 'openfifo':
    case 'console':
      return [o.path];
    case 'checkexec':
      return [o.name, o.searchPath];
    case 'pty':
      return [n(o.uid), n(o.rows), n(o.cols)];
    case 'ready':
      return [o.mode];
    case 'hook':
      return [o.path, n(o.args.length), ...o.args, n(o.env.length), ...o.env, n(o.timeout), o.statePrefix, o.stateSuffix];
    case 'exec':
      return [o.path, n(o.args.length), ...o.args, n(o.env.length), ...o.env];
    case 'setid0':
    case 'stubinit':
    case 'hostpid':
    case 'pivot':
    case 'chroot':
    case 'keepcaps':
    case 'nnp':
      return [];
  }
}

/** The wire form: u32 little-endian length, then `name step argc arg...` NUL-terminated strings. */
export function encodePlan(ops: Op[]): Buffer {
  const parts: string[] = [];
  for (const o of ops) {
    const a = args(o);
    for (const s of [o.op, o.step, String(a.length), ...a]) {
      if (s.includes('\0')) throw new TypeError(`${o.step}: a NUL byte in an argument of ${o.op}`);
      parts.push(s, '\0');
    }
  }
  const body = Buffer.from(parts.join(''), 'utf8');
  const hdr = Buffer.alloc(4);
  hdr.writeUInt32LE(body.length);
  return Buffer.concat([hdr, body]);
}
