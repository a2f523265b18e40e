// inetd-style socket activation: berth listens and accepts, and every
// connection gets a container of its own with the connection as stdin and
// stdout. At most `concurrency` run at once: past that berth stops
// accepting, and connections wait in the listen backlog until one ends.
// Readiness is a uv_poll on the listening socket (no thread waits).
import { native } from '../native.js';
import { BerthError } from '../runtime/errors.js';
import { Container, type CreateOptions } from '../runtime/container.js';
import type { StdioOption } from '../runtime/stdio.js';
import { closeSockets, openSockets, type Listener, type SocketOption } from './activation.js';

export interface InetdOptions extends Omit<CreateOptions, 'stdio' | 'extraFds' | 'id'> {
  /** A stream socket: tcp or unix. */
  socket: SocketOption;
  /** Most containers running at once (default 16). */
  concurrency?: number;
  /** The containers' stderr (default 'ignore'). */
  stderr?: StdioOption;
  /** Called when a connection's container fails to start; the connection is closed. */
  onError?: (err: Error) => void;
}

export class Inetd {
  readonly socket: Listener;
  /** Connections served (their container ended) and connections whose container failed. */
  served = 0;
  failed = 0;
  private running = new Set<Promise<void>>();
  private stop?: () => void;
  private closed = false;
  private closing?: Promise<void>;
  private limit: number;

  private constructor(private opts: InetdOptions) {
    if (opts.socket?.type === 'udp') throw new BerthError('EINVAL: inetd mode needs a stream socket (tcp or unix)', { code: 'EINVAL', step: 'open sockets' });
    this.limit = opts.concurrency ?? 16;
    if (!Number.isInteger(this.limit) || this.limit < 1)
      throw new BerthError(`EINVAL: concurrency ${opts.concurrency}: must be a positive integer`, { code: 'EINVAL', step: 'inetd' });
    [this.socket] = openSockets([opts.socket], { nonblock: true }) as [Listener];
    this.resume();
  }

  /** Listens on the socket and serves each connection with a container. */
  static listen(opts: InetdOptions): Inetd {
    return new Inetd(opts);
  }

  /** Containers running now. */
  get active(): number {
    return this.running.size;
  }

  /** Stops accepting, waits for the running containers to end, closes the socket. */
  async close(): Promise<void> {
    if (this.closed) return this.closing;
    this.closed = true;
    this.pause();
    this.closing = (async () => {
      while (this.running.size) await Promise.all(this.running);
      closeSockets([this.socket]);
    })();
    return this.closing;
  }

  private pause() {
    this.stop?.();
    this.stop = undefined;
  }

  private resume() {
    if (!this.stop && !this.closed) this.stop = native().watchReadable(this.socket.fd, () => this.onReadable());
  }

  private onReadable() {
    while (!this.closed && this.running.size < this.limit) {
      const fd = native().accept(this.socket.fd);
      if (fd < 0) return;
      const p = this.serve(fd).finally(() => {
        this.running.delete(p);
        this.resume();
      });
      this.running.add(p);
    }
    if (this.running.size >= this.limit) this.pause();
  }

  private async serve(fd: number): Promise<void> {
    const { socket: _s, concurrency: _c, stderr, onError, ...create } = this.opts;
    let c: Container | undefined;
    try {
      try {
        c = await Container.create({ ...create, stdio: [fd, fd, stderr ?? 'ignore'], waitForStart: false });
      } finally {
        native().close(fd); // the container has its own copy
      }
      await c.start();
      await c.wait();
      this.served++;
    } catch (e) {
      this.failed++;
      onError?.(e as Error);
    } finally {
      await c?.delete({ force: true }).catch(() => {});
    }
  }
}

export const inetd = (opts: InetdOptions) => Inetd.listen(opts);
