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

export interface Addon {
  /** [readFd, writeFd], both O_CLOEXEC. */
  pipe(): [number, number];
  /** Two connected AF_UNIX stream sockets, O_CLOEXEC. */
  socketpair(): [number, number];
  close(fd: number): void;
  /** Starts `path` with fds[i] as fd i and nothing else open; default signal dispositions, empty env. */
  spawn(path: string, argv: string[], fds: number[]): { pid: number; pidfd: number };
  pidfdOpen(pid: number): number;
  /** False when the process had already exited. */
  pidfdSendSignal(pidfd: number, signal: number): boolean;
  /** Calls back once the child behind pidfd exits, and reaps it. No thread waits: it is a uv_poll. */
  watchExit(pidfd: number, callback: (status: ExitStatus) => void): void;
}

const here = dirname(fileURLToPath(import.meta.url));
/** The package's top directory (dist/src/.. /..). */
export const packageDir = join(here, '..', '..');
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
