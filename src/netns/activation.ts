// Socket activation. berth opens the listening sockets on the host and the
// container gets them, so it needs no network of its own:
//   listen-fd style (systemd's sd_listen_fds): the sockets are fds 3, 4, ...
//     with LISTEN_FDS, LISTEN_PID=1 and LISTEN_FDNAMES in the environment;
//     `lazy` holds them until the first connection or datagram arrives and
//     only then starts the container (connections wait in the backlog).
//   inetd style (inetd.ts): berth accepts, and each connection gets its own
//     container with the connection as stdin and stdout.
import { chmodSync, unlinkSync } from 'node:fs';
import { native } from '../native.js';
import { BerthError } from '../runtime/errors.js';
import { Container, type CreateOptions } from '../runtime/container.js';
import type { Spec } from '../spec/types.js';
import { validateSpec } from '../spec/validate.js';

export type SocketOption =
  | { type: 'tcp' | 'udp'; port: number; /** Default 0.0.0.0 ("::" for an IPv6 host). */ host?: string; name?: string; backlog?: number }
  | { type: 'unix'; path: string; name?: string; /** chmod of the socket file. */ mode?: number; backlog?: number };

/** A socket berth opened: its fd (O_CLOEXEC in this process) and what it is bound to. */
export interface Listener {
  fd: number;
  type: 'tcp' | 'udp' | 'unix';
  /** Its LISTEN_FDNAMES entry. */
  name: string;
  /** The bound port (the real one when 0 was asked). */
  port?: number;
  host?: string;
  path?: string;
}

const fail = (code: string, msg: string) => new BerthError(`${code}: ${msg}`, { code, step: 'open sockets' });

const NAME = /^[A-Za-z0-9_.@+-]{1,255}$/; // no ':' (the separator) and nothing the shell or systemd would mangle

/** Opens every socket, or none (an error names the one that failed). */
export function openSockets(list: SocketOption[], opts: { nonblock?: boolean } = {}): Listener[] {
  if (!Array.isArray(list) || !list.length) throw fail('EINVAL', 'sockets: give at least one socket');
  const out: Listener[] = [];
  try {
    for (const [i, s] of list.entries()) {
      const name = s.name ?? s.type;
      if (!NAME.test(name)) throw fail('EINVAL', `sockets[${i}].name ${JSON.stringify(name)}: use letters, digits and _ . @ + -`);
      const backlog = s.backlog ?? 128;
      if (s.type === 'unix') {
        if (typeof s.path !== 'string' || !s.path.startsWith('/')) throw fail('EINVAL', `sockets[${i}].path: must be an absolute path`);
        const { fd } = native().socketBind({ type: 'stream', family: 'unix', path: s.path, backlog, nonblock: opts.nonblock });
        out.push({ fd, type: 'unix', name, path: s.path });
        if (s.mode !== undefined) chmodSync(s.path, s.mode);
      } else if (s.type === 'tcp' || s.type === 'udp') {
        if (!Number.isInteger(s.port) || s.port < 0 || s.port > 65535) throw fail('EINVAL', `sockets[${i}].port: ${JSON.stringify(s.port)} is not a port`);
        const family = s.host?.includes(':') ? 'ipv6' : 'ipv4';
        const host = s.host ?? '0.0.0.0';
        const r = native().socketBind({
          type: s.type === 'tcp' ? 'stream' : 'dgram',
          family,
          address: host,
          port: s.port,
          ...(s.type === 'tcp' ? { backlog } : {}),
          nonblock: opts.nonblock,
        });
        out.push({ fd: r.fd, type: s.type, name, port: r.port, host });
      } else {
        throw fail('EINVAL', `sockets[${i}].type: must be "tcp", "udp" or "unix"`);
      }
    }
  } catch (e) {
    closeSockets(out);
    throw e;
  }
  return out;
}

/** Closes the sockets and removes the unix sockets' files. */
export function closeSockets(ls: Listener[]): void {
  for (const l of ls.splice(0)) {
    native().close(l.fd);
    if (l.path)
      try {
        unlinkSync(l.path);
      } catch {
        // already gone
      }
  }
}

/** sd_listen_fds(3)'s environment for sockets placed at fds 3, 4, ... of the container's pid 1. */
export function listenFdsEnv(ls: Listener[]): string[] {
  return [`LISTEN_FDS=${ls.length}`, 'LISTEN_PID=1', `LISTEN_FDNAMES=${ls.map((l) => l.name).join(':')}`];
}

/** The spec with the listen-fd environment (replacing any LISTEN_* it had); it needs a new pid namespace, for LISTEN_PID=1. */
export function withListenFds(spec: Spec, ls: Listener[]): Spec {
  const s = validateSpec(spec);
  if (!s.linux?.namespaces?.some((n) => n.type === 'pid' && !n.path))
    throw fail('EINVAL', 'listen-fd activation needs a new pid namespace (LISTEN_PID=1 names the container\'s first process)');
  const env = (s.process!.env ?? []).filter((e) => !/^LISTEN_(FDS|PID|FDNAMES)=/.test(e));
  s.process!.env = [...env, ...listenFdsEnv(ls)];
  return s;
}

export interface ActivateOptions extends Omit<CreateOptions, 'extraFds'> {
  sockets: SocketOption[];
  /** Start the container only when the first connection (or datagram) arrives. */
  lazy?: boolean;
}

/** A socket-activated container and the sockets it serves. */
export class Activation {
  readonly sockets: Listener[];
  /** The started container: at once, or (lazy) after the first connection. Rejects if it could not start. */
  readonly container: Promise<Container>;
  private stops: (() => void)[] = [];
  private started?: Container;
  private closed = false;

  private constructor(sockets: Listener[], private opts: ActivateOptions, spec: Spec) {
    this.sockets = sockets;
    this.container = new Promise<Container>((resolve, reject) => {
      let once = false;
      const go = () => {
        if (once) return;
        once = true;
        if (this.closed) return reject(fail('ECANCELED', 'the activation was closed before the container started'));
        this.unwatch();
        this.launch(spec).then(resolve, reject);
      };
      if (!opts.lazy) return go();
      for (const l of sockets) this.stops.push(native().watchReadable(l.fd, go));
    });
    this.container.catch(() => {}); // the caller sees it through `container`
  }

  /** Opens the sockets and starts the container on them (or waits for the first connection, with `lazy`). */
  static activate(opts: ActivateOptions): Activation {
    const sockets = openSockets(opts.sockets);
    try {
      return new Activation(sockets, opts, withListenFds(opts.spec as Spec, sockets));
    } catch (e) {
      closeSockets(sockets);
      throw e;
    }
  }

  /** Stops waiting, deletes the container (killing it if it runs) and closes the sockets. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.unwatch();
    const c = this.started ?? (await this.container.catch(() => undefined));
    await c?.delete({ force: true });
    closeSockets(this.sockets);
  }

  private unwatch() {
    for (const stop of this.stops.splice(0)) stop();
  }

  private async launch(spec: Spec): Promise<Container> {
    const { sockets: _s, lazy: _l, ...create } = this.opts;
    const c = await Container.create({ ...create, spec, extraFds: this.sockets.map((l) => l.fd), waitForStart: false });
    this.started = c;
    await c.start();
    return c;
  }
}

export const activate = (opts: ActivateOptions) => Activation.activate(opts);
