// Loads the addon and types it. Every function here is one syscall (or a
// small fixed sequence of them); policy lives in the callers.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface ExitStatus {
  /** Exit code, when the process exited. */
  code?: number;
  /** Signal number, when a signal ended it. */
  signal?: number;
  /** errno name, when waiting failed. */
  error?: string;
}

export interface SeccompProgramInput {
  defaultAction: number;
  /** libseccomp's names: x86_64, x86, x32, aarch64, ... */
  architectures: string[];
  rules: { syscall: string; action: number; args: { index: number; op: number; value: bigint; valueTwo: bigint }[] }[];
}

export interface Addon {
  /** [readFd, writeFd], both O_CLOEXEC. */
  pipe(): [number, number];
  /** Two connected AF_UNIX stream sockets, O_CLOEXEC. */
  socketpair(): [number, number];
  close(fd: number): void;
  /** flock(2): true if taken; with wait=false, false when another holder has it. Blocking: CLI only. */
  flock(fd: number, exclusive: boolean, wait: boolean): boolean;
  mkfifo(path: string, mode: number): void;
  /** ioctl(TIOCSWINSZ): a pty master's window size (its slave sees SIGWINCH). */
  setWinsize(fd: number, rows: number, cols: number): void;
  /** poll(2) for POLLIN; false on timeout. Blocking: CLI only. */
  pollIn(fd: number, timeoutMs: number): boolean;
  /** An AF_UNIX SOCK_DGRAM socket bound at path ('@name': abstract). */
  dgramBind(path: string): number;
  /** The next datagram, or null after timeoutMs. Blocking: CLI only. */
  dgramRecv(fd: number, timeoutMs: number): Buffer | null;
  dgramSend(path: string, data: Buffer): void;
  /** Compiles a seccomp filter with the system's libseccomp (dlopen'd); numbers are libseccomp's. */
  seccompCompile(profile: SeccompProgramInput): { program: Buffer; unknown: string[] };
  /** Starts `path` with fds[i] as fd i and nothing else open; default signal dispositions, empty env. */
  spawn(path: string, argv: string[], fds: number[]): { pid: number; pidfd: number };
  pidfdOpen(pid: number): number;
  /** False when the process had already exited. */
  pidfdSendSignal(pidfd: number, signal: number): boolean;
  /** Calls back once the child behind pidfd exits, and reaps it. No thread waits: it is a uv_poll. */
  watchExit(pidfd: number, callback: (status: ExitStatus) => void): void;
  /** mknod(2); `mode` includes the type bits (S_IFCHR, S_IFBLK, S_IFIFO). */
  mknod(path: string, mode: number, major: number, minor: number): void;
  /** lsetxattr(2): sets an extended attribute without following a symlink. */
  lsetxattr(path: string, name: string, value: Buffer): void;
  /** lgetxattr(2): the attribute's value, or null if the file has none. */
  lgetxattr(path: string, name: string): Buffer | null;
  /**
   * A list of file-system syscalls relative to `dirfd`, laid out by
   * src/images/fsops.ts; returns the fd left open. The first failing op
   * throws, with `index` (which op) and `fd` (still open, or -1); `root`
   * names dirfd in errors.
   */
  fsOps(dirfd: number, root: string, ops: Float64Array, count: number, strings: Buffer, data: Buffer | null, fd: number): number;
  /** eventfd(2), EFD_CLOEXEC | EFD_NONBLOCK (cgroup v1 OOM notification). */
  eventfd(): number;
  /** Calls back with the counter each time the eventfd is signalled (an unref'd uv_poll). Returns an id for unwatchEventfd; the fd stays the caller's. */
  watchEventfd(fd: number, callback: (count: number) => void): number;
  unwatchEventfd(id: number): void;
  /** bpf(BPF_PROG_LOAD): the program's fd. A verifier rejection carries `verifierLog`. */
  bpfProgLoad(progType: number, insns: Buffer, license: string): number;
  /** bpf(BPF_PROG_ATTACH) of a program to a target (a cgroup directory fd). */
  bpfProgAttach(progFd: number, targetFd: number, attachType: number, flags: number): void;
  bpfProgDetach(progFd: number, targetFd: number, attachType: number): void;
  /** bpf(BPF_PROG_QUERY): ids of the programs attached to the target. */
  bpfProgQuery(targetFd: number, attachType: number): number[];
  bpfProgGetFdById(id: number): number;

  // rtnetlink (native/addon/netlink.cc). `sock` is a netlinkOpen() fd; a link is a name or an index.
  /** A NETLINK_ROUTE socket in the namespace of `netnsFd` (opened on a helper thread), or in the caller's. */
  netlinkOpen(netnsFd?: number): number;
  /** The link, or null if there is none. */
  linkGet(sock: number, link: string | number): LinkInfo | null;
  linkList(sock: number): LinkInfo[];
  /** RTM_NEWLINK create (kind 'veth' with `peer`, 'bridge', ...); `master` is a bridge in the socket's namespace. */
  linkAdd(sock: number, opts: LinkAddOptions): void;
  /** RTM_NEWLINK on an existing link; `master: null` leaves the bridge, `name` renames. */
  linkSet(sock: number, link: string | number, opts: LinkSetOptions): void;
  /** False if there was no such link. */
  linkDel(sock: number, link: string | number): boolean;
  /** IPv4 or IPv6 (IPv6 without duplicate address detection). */
  addrAdd(sock: number, link: string | number, address: string, prefixLen: number): void;
  /** No `dst`: the default route. */
  routeAdd(sock: number, route: { dst?: string; prefixLen?: number; gateway?: string; link?: string | number; family?: 4 | 6 }): void;

  // Sockets for activation and port reservation (native/addon/netsock.cc).
  /** A bound socket (listening, for a stream socket with a backlog), O_CLOEXEC; `port` is the bound one. */
  socketBind(opts: SocketBindOptions): { fd: number; port: number };
  /** accept4(2) on a non-blocking listening socket: a blocking O_CLOEXEC socket, or -1 if none waits. */
  accept(fd: number): number;
  /** Calls back whenever fd is readable (a uv_poll); returns stop(). Stop before closing the fd. */
  watchReadable(fd: number, callback: (ev: { error?: string }) => void): () => void;

  // Messages with fds (native/addon/msg.cc): the CLI server and its front.
  /** sendmsg(2) of one message with fds attached (SCM_RIGHTS). */
  sendMsg(fd: number, data: Buffer, fds?: number[]): void;
  /** recvmsg(2): the next message and its fds (O_CLOEXEC), eof at end of stream; null if none within timeoutMs. */
  recvMsg(fd: number, timeoutMs: number): { data: Buffer; fds: number[]; eof: boolean; truncated: boolean } | null;
  /** SO_PEERCRED of a connected unix socket. */
  peerCred(fd: number): { pid: number; uid: number; gid: number };
}

export interface LinkInfo {
  index: number;
  name: string;
  /** IFLA_INFO_KIND: 'veth', 'bridge', ... ('' for physical and loopback links). */
  kind: string;
  mac: string;
  mtu: number;
  up: boolean;
  /** Index of the bridge it is a port of, or 0. */
  master: number;
}

export interface LinkSetOptions {
  name?: string;
  up?: boolean;
  mtu?: number;
  mac?: string;
  master?: string | number | null;
  /** Moves the link into the namespace of this netns fd, or of this pid. */
  netnsFd?: number;
  netnsPid?: number;
}

export interface LinkAddOptions extends Omit<LinkSetOptions, 'master'> {
  name: string;
  kind: string;
  master?: string | number;
  /** A veth's other end: created directly in its namespace, down. */
  peer?: { name: string; mtu?: number; mac?: string; netnsFd?: number; netnsPid?: number };
}

export interface SocketBindOptions {
  type: 'stream' | 'dgram' | 'seqpacket';
  family: 'ipv4' | 'ipv6' | 'unix';
  address?: string;
  port?: number;
  path?: string;
  /** listen(2) with this backlog (stream sockets). */
  backlog?: number;
  nonblock?: boolean;
}

/** The package's top directory: the one with binding.gyp above this file (dist/src/, or dist/ when bundled). */
export const packageDir = (() => {
  let d = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(d, 'binding.gyp')) && dirname(d) !== d) d = dirname(d);
  return d;
})();
const release = join(packageDir, 'build', 'Release');

/** The single-threaded setup executable (native/setup). */
export const setupPath = join(release, 'berth-setup');

let addon: Addon | undefined;

export function native(): Addon {
  if (!addon) {
    const file = join(release, 'berth.node');
    if (!existsSync(file)) throw new Error(`berth's addon is not built (${file}): run npm install`);
    addon = createRequire(import.meta.url)(file) as Addon;
  }
  return addon;
}
