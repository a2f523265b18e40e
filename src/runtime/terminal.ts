// A terminal for library containers whose spec asks for one
// (process.terminal): berth plays the part conmon plays for the CLI. It
// listens on a console socket of its own, the setup process makes the pty in
// the container's devpts and sends the master back (SCM_RIGHTS), and the
// master becomes a stream on Node's loop, with resize().
import { mkdirSync, rmdirSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { ReadStream } from 'node:tty';
import { native } from '../native.js';
import { BerthError } from './errors.js';

const DIR = '/run/berth/.console';

export class Terminal {
  /**
   * The pty master: what the container writes to its terminal is read here;
   * what is written here is its input. It emits 'close' once the container's
   * last process has let go of the terminal.
   */
  readonly stream: ReadStream;

  private constructor(readonly fd: number) {
    this.stream = new ReadStream(fd);
    // A pty master reads EIO once the last slave fd is closed: the end, not a
    // failure (the stream closes either way); other errors stay visible.
    this.stream.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code !== 'EIO' && this.stream.listenerCount('error') === 1) throw e;
    });
  }

  /** The container's window size (its processes see SIGWINCH). */
  resize(cols: number, rows: number): void {
    native().setWinsize(this.fd, rows, cols);
  }

  /**
   * A console socket to put in the plan; `received` resolves with the
   * terminal once the setup process has sent the master (or rejects when
   * close() comes first).
   */
  static listen(containerId: string): ConsoleListener {
    const n = native();
    const path = join(DIR, `${containerId.slice(0, 40)}-${randomBytes(4).toString('hex')}.sock`);
    const fd = bindIn(path);
    let stop = () => {};
    let settled = false;
    let reject: (e: Error) => void = () => {};
    const close = () => {
      stop();
      stop = () => {};
      if (!settled) n.close(fd);
      settled = true;
      unbind(path);
      reject(new BerthError('the console socket was closed before the terminal arrived', { code: 'ECONNABORTED', step: 'console', containerId }));
    };
    const received = new Promise<Terminal>((resolve, rej) => {
      reject = rej;
      stop = n.watchReadable(fd, () => {
        const c = n.accept(fd);
        if (c < 0) return;
        let msg;
        try {
          msg = n.recvMsg(c, 5000);
        } finally {
          n.close(c);
        }
        const master = msg?.fds[0];
        for (const extra of msg?.fds.slice(1) ?? []) n.close(extra);
        if (master === undefined) return; // not the setup process: keep listening
        stop();
        stop = () => {};
        n.close(fd);
        settled = true;
        unbind(path);
        resolve(new Terminal(master));
      });
    });
    received.catch(() => {});
    return { path, received, close };
  }
}

export interface ConsoleListener {
  path: string;
  received: Promise<Terminal>;
  /** Stops listening and removes the socket (idempotent). */
  close(): void;
}

/** Binds in DIR, made here (and removed when empty by the last one out: a bind may race that, hence the retry). */
function bindIn(path: string): number {
  for (let i = 0; ; i++) {
    mkdirSync(DIR, { recursive: true, mode: 0o700 });
    try {
      return native().socketBind({ type: 'stream', family: 'unix', path, backlog: 1, nonblock: true }).fd;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT' || i >= 3) throw e;
    }
  }
}

function unbind(path: string): void {
  rmSync(path, { force: true });
  try {
    rmdirSync(DIR);
  } catch {
    // another container's socket is there
  }
}
