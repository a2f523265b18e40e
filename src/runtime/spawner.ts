// Who starts the setup process. Normally this process, through the addon's
// posix_spawn. Under the CLI server (src/cli/oci/server.ts) it is the native
// front that made the request, so the container stays a descendant of the
// command the orchestrator ran (conmon and the containerd shim are
// subreapers and reap it).
import { native, type ExitStatus } from '../native.js';

export interface Spawner {
  /**
   * Starts `path` with `callerFds` (fds of whoever ran berth: stdio and
   * preserved fds) then `ownFds` (fds of this process) as its fds 0..n-1.
   */
  spawn(path: string, argv: string[], callerFds: number[], ownFds: number[]): { pid: number; pidfd: number };
  /** Calls back once with the child's wait status. */
  watchExit(pidfd: number, callback: (status: ExitStatus) => void): void;
}

const local: Spawner = {
  spawn: (path, argv, callerFds, ownFds) => native().spawn(path, argv, [...callerFds, ...ownFds]),
  watchExit: (pidfd, callback) => native().watchExit(pidfd, callback),
};

let current: Spawner = local;

export const spawner = (): Spawner => current;

/** Sets the spawner for what follows (none: this process again). */
export function useSpawner(s?: Spawner): void {
  current = s ?? local;
}

/** True while a served call runs: its caller (the front) passes signals on, not this process. */
export const callerForwardsSignals = (): boolean => current !== local;
