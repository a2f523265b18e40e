// The CLI server: one long-lived Node process that runs the short verbs
// (create, start, state, kill, delete, ...) for the native front
// (native/front; protocol in native/front.md), so that a call costs a few
// messages instead of a Node start-up. Requests run one at a time, each with
// its caller's argv, cwd and environment; what a verb prints goes back to its
// caller, and the setup process is spawned by the caller (src/runtime/spawner.ts).
// A request that comes while another runs is sent back (the caller then runs
// Node itself), so no call ever waits behind another.
// It leaves after an idle period (BERTH_SERVER_IDLE_MS, default 15 s) or on
// SIGTERM, once the request in hand is done.
import { closeSync, mkdirSync, openSync, rmdirSync, statSync, unlinkSync } from 'node:fs';
import { dirname } from 'node:path';
import { native, type ExitStatus } from '../../native.js';
import { describeErrno } from '../../runtime/errors.js';
import { useSpawner, type Spawner } from '../../runtime/spawner.js';
import { main } from './main.js';

interface Request {
  conn: Conn;
  cwd: string;
  argv: string[];
  env: Record<string, string>;
}

type Msg = { data: Buffer; fds: number[]; eof: boolean };

const frame = (type: string, payload: string | Uint8Array = '') => Buffer.concat([Buffer.from(type), Buffer.from(payload)]);

/** `cwd \0 argc \0 argv... \0 env...` (native/front.md). */
export function parseRequest(data: Buffer): Omit<Request, 'conn'> {
  const f = data.toString('utf8').split('\0');
  if (f.at(-1) === '') f.pop();
  const argc = Number(f[1]);
  if (f.length < 2 || !Number.isInteger(argc) || argc < 0 || f.length < 2 + argc) throw new Error('malformed request');
  const env: Record<string, string> = {};
  for (const e of f.slice(2 + argc)) {
    const eq = e.indexOf('=');
    if (eq > 0) env[e.slice(0, eq)] = e.slice(eq + 1);
  }
  return { cwd: f[0]!, argv: f.slice(2, 2 + argc), env };
}

/** One front's connection: its requests, and the children it spawned for us. */
class Conn implements Spawner {
  private stopWatch: () => void;
  private exits = new Map<number, (s: ExitStatus) => void>();
  private reported = new Map<number, ExitStatus>();
  private pidOf = new Map<number, number>();
  closed = false;

  constructor(
    readonly fd: number,
    private onRequest: (r: Request) => void,
  ) {
    this.stopWatch = native().watchReadable(fd, () => this.drain());
  }

  send(type: string, payload?: string | Uint8Array, fds?: number[]): void {
    if (this.closed) return;
    try {
      native().sendMsg(this.fd, frame(type, payload), fds);
    } catch {
      // the front is gone; its request still runs to the end
    }
  }

  private drain(): void {
    for (;;) {
      let m: Msg | null;
      try {
        m = native().recvMsg(this.fd, 0);
      } catch {
        m = { data: Buffer.alloc(0), fds: [], eof: true };
      }
      if (!m) return;
      if (m.eof) return this.close();
      this.dispatch(m);
    }
  }

  private dispatch(m: Msg): void {
    for (const fd of m.fds) native().close(fd); // only 'p' carries one, read in spawn()
    const type = String.fromCharCode(m.data[0] ?? 0);
    const body = m.data.subarray(1).toString('utf8');
    if (type === 'R') {
      try {
        this.onRequest({ conn: this, ...parseRequest(m.data.subarray(1)) });
      } catch (e) {
        this.send('E', `berth: ${(e as Error).message}\n`);
        this.send('X', '1');
      }
    } else if (type === 'w') {
      const [pid, code, signal] = body.split(' ').map(Number) as [number, number, number];
      this.exited(pid, signal ? { signal } : { code });
    }
  }

  private exited(pid: number, status: ExitStatus): void {
    const cb = this.exits.get(pid);
    this.exits.delete(pid);
    if (cb) cb(status);
    else this.reported.set(pid, status);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.stopWatch();
    native().close(this.fd);
    // The front is gone: its children are no longer ours to hear about.
    for (const pid of [...this.exits.keys()]) this.exited(pid, { error: 'ECONNRESET' });
  }

  // Spawner: the front spawns; we wait for its answer here, synchronously
  // (the request is ours alone; other messages are handled in order).
  spawn(path: string, argv: string[], callerFds: number[], ownFds: number[]): { pid: number; pidfd: number } {
    const spec = [...callerFds.map(String), ...ownFds.map((_, i) => `r${i}`)];
    if (this.closed) throw Object.assign(new Error('ECONNRESET: the caller has gone, spawn'), { code: 'ECONNRESET', syscall: 'spawn', path });
    native().sendMsg(this.fd, frame('S', [path, String(argv.length), ...argv, ...spec].join('\0')), ownFds);
    const later: Msg[] = [];
    try {
      for (;;) {
        const m = native().recvMsg(this.fd, 30_000);
        if (!m || m.eof) throw Object.assign(new Error('ECONNRESET: no answer from the caller, spawn'), { code: 'ECONNRESET', syscall: 'spawn', path });
        if (m.data[0] !== 'p'.charCodeAt(0)) {
          later.push(m);
          continue;
        }
        const pid = Number(m.data.subarray(1).toString());
        if (pid < 0 || m.fds.length !== 1) {
          for (const fd of m.fds) native().close(fd);
          // Shaped like the addon's own spawn error: "CODE: text, posix_spawn 'path'".
          const [code, text] = describeErrno(pid < 0 ? -pid : 5);
          throw Object.assign(new Error(`${code}: ${text}, posix_spawn '${path}'`), { code, errno: pid < 0 ? -pid : 5, syscall: 'posix_spawn', path });
        }
        this.pidOf.set(m.fds[0]!, pid);
        return { pid, pidfd: m.fds[0]! };
      }
    } finally {
      for (const m of later) this.dispatch(m);
    }
  }

  watchExit(pidfd: number, callback: (status: ExitStatus) => void): void {
    const pid = this.pidOf.get(pidfd) ?? -1;
    this.pidOf.delete(pidfd);
    const done = this.reported.get(pid);
    this.reported.delete(pid);
    if (done) setImmediate(() => callback(done));
    else if (this.closed) setImmediate(() => callback({ error: 'ECONNRESET' }));
    else this.exits.set(pid, callback);
  }
}

/** Runs one request as if berth had been started by its caller. */
async function run(r: Request): Promise<void> {
  const { conn } = r;
  conn.send('A');
  for (const k of Object.keys(process.env)) delete process.env[k];
  Object.assign(process.env, r.env);
  const out = process.stdout.write;
  const err = process.stderr.write;
  const relay = (type: string) =>
    function (chunk: string | Uint8Array, enc?: unknown, cb?: unknown): boolean {
      conn.send(type, chunk);
      const done = typeof enc === 'function' ? enc : cb;
      if (typeof done === 'function') process.nextTick(done as () => void);
      return true;
    };
  process.stdout.write = relay('O') as typeof out;
  process.stderr.write = relay('E') as typeof err;
  useSpawner(conn);
  let code = 1;
  try {
    process.chdir(r.cwd);
    code = await main(r.argv);
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n`);
  } finally {
    useSpawner();
    process.stdout.write = out;
    process.stderr.write = err;
  }
  conn.send('X', String(code));
}

/** Serves on the socket at `path` until idle; returns when another server already has it. */
export async function serve(path: string): Promise<void> {
  const n = native();
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const lockFd = openSync(`${path}.lock`, 'a', 0o600);
  if (!n.flock(lockFd, true, false)) return closeSync(lockFd);
  try {
    unlinkSync(path); // a socket left by a server that died; we hold the lock
  } catch {}
  const { fd: listenFd } = n.socketBind({ type: 'seqpacket', family: 'unix', path, backlog: 128, nonblock: true });
  const ino = statSync(path).ino;
  const uid = process.getuid?.() ?? 0;
  const idleMs = Number(process.env.BERTH_SERVER_IDLE_MS) || 15_000;

  let busy = false;
  let stopping = false;
  let idle: NodeJS.Timeout | undefined;
  let stopAccept = () => {};
  const finished = new Promise<void>((resolve) => {
    let over = false;
    const shutdown = () => {
      if (over) return;
      over = true;
      clearTimeout(idle);
      stopAccept();
      try {
        if (statSync(path).ino === ino) unlinkSync(path);
      } catch {}
      n.close(listenFd);
      // Removed while still held, so a server starting now makes a new one.
      try {
        unlinkSync(`${path}.lock`);
      } catch {}
      closeSync(lockFd);
      try {
        rmdirSync(dirname(path));
      } catch {}
      resolve();
    };
    const rest = () => {
      if (stopping) return shutdown();
      clearTimeout(idle);
      idle = setTimeout(shutdown, idleMs);
    };
    // One call at a time, and never a wait behind a slow one (a hook, a start
    // waiting for READY=1): a busy server sends the caller back to run Node itself.
    const take = (r: Request) => {
      if (busy || stopping) return r.conn.send('B');
      clearTimeout(idle);
      busy = true;
      run(r).finally(() => {
        busy = false;
        rest();
      });
    };
    process.on('SIGTERM', () => {
      stopping = true;
      if (!busy) shutdown();
    });
    stopAccept = n.watchReadable(listenFd, () => {
      for (;;) {
        const c = n.accept(listenFd);
        if (c < 0) return;
        if (n.peerCred(c).uid !== uid) n.close(c);
        else new Conn(c, take);
      }
    });
    rest();
  });
  // A crash would leave callers waiting: drop the socket first, so the next calls run on their own.
  process.on('uncaughtException', (e) => {
    try {
      if (statSync(path).ino === ino) unlinkSync(path);
    } catch {}
    process.stderr.write(`berth server: ${e.stack ?? e}\n`);
    process.exit(70);
  });
  await finished;
}
