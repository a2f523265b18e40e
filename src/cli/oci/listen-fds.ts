// Socket activation through the runtime (systemd starting `berth run`): with
// LISTEN_FDS=N in our environment, fds 3 .. 3+N-1 go to the container too
// (before the --preserve-fds ones, as with runc), with LISTEN_FDS=N,
// LISTEN_PID=1 and LISTEN_FDNAMES set in its environment.
import type { Spec } from '../../spec/types.js';

export function withListenFds(spec: Spec, preserveFds: number, env: NodeJS.ProcessEnv = process.env): { spec: Spec; fds: number } {
  const n = Number(env.LISTEN_FDS);
  if (!Number.isInteger(n) || n <= 0 || !spec.process) return { spec, fds: preserveFds };
  const keep = (spec.process.env ?? []).filter((e) => !/^LISTEN_(FDS|PID|FDNAMES)=/.test(e));
  const add = [`LISTEN_FDS=${n}`, 'LISTEN_PID=1', ...(env.LISTEN_FDNAMES !== undefined ? [`LISTEN_FDNAMES=${env.LISTEN_FDNAMES}`] : [])];
  return { spec: { ...spec, process: { ...spec.process, env: [...keep, ...add] } }, fds: n + preserveFds };
}

export const fdList = (count: number) => [0, 1, 2, ...Array.from({ length: count }, (_, i) => 3 + i)];
