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
  /** poll(2) for POLLIN; false on timeout. Blocking: CLI only. */
  pollIn(fd: number, timeoutMs: number): boolean;
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
