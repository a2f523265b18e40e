// sd_notify through the runtime (NOTIFY_SOCKET in our environment, as a
// systemd unit running berth has it): the container gets a socket of ours,
// bind-mounted at the same path, and `start` (or `run`) forwards its
// READY=1 to the host's socket, as runc does.
import { mkdirSync, rmSync } from 'node:fs';
import { basename, dirname, isAbsolute, join } from 'node:path';
import { native } from '../../native.js';
import type { Spec } from '../../spec/types.js';

export interface NotifyRecord {
  /** The host's socket (our NOTIFY_SOCKET). */
  host: string;
  /** Ours, in the state dir; the container sees it at its NOTIFY_SOCKET. */
  socket: string;
}

export function setupNotify(spec: Spec, stateDir: string, env: NodeJS.ProcessEnv = process.env): { spec: Spec; notify?: NotifyRecord } {
  const host = env.NOTIFY_SOCKET;
  if (!host || !spec.process) return { spec };
  const inside = isAbsolute(host) ? host : '/run/notify/notify.sock';
  const dir = join(stateDir, 'notify');
  mkdirSync(dir, { recursive: true });
  const envs = (spec.process.env ?? []).filter((e) => !e.startsWith('NOTIFY_SOCKET='));
  return {
    spec: {
      ...spec,
      process: { ...spec.process, env: [...envs, `NOTIFY_SOCKET=${inside}`] },
      mounts: [...(spec.mounts ?? []), { destination: dirname(inside), type: 'bind', source: dir, options: ['bind', 'nosuid', 'nodev', 'noexec'] }],
    },
    notify: { host, socket: join(dir, basename(inside)) },
  };
}

/** Binds our socket; call before the container may send. */
export function listenNotify(n: NotifyRecord): number {
  rmSync(n.socket, { force: true });
  return native().dgramBind(n.socket);
}

/** Forwards messages until one says READY=1 or `alive()` turns false. Blocking: CLI only. */
export function forwardReady(n: NotifyRecord, fd: number, alive: () => boolean): boolean {
  try {
    for (;;) {
      const msg = native().dgramRecv(fd, 100);
      if (msg) {
        native().dgramSend(n.host, msg);
        if (/(^|\n)READY=1(\n|$)/.test(msg.toString())) return true;
      } else if (!alive()) {
        return false;
      }
    }
  } finally {
    native().close(fd);
  }
}
