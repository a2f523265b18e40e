// Starts the setup process with a plan and follows its messages (see
// native/protocol.md). One Launch per container process.
import { writeFileSync } from 'node:fs';
import { Socket } from 'node:net';
import { native, setupPath, type ExitStatus } from '../native.js';
import { BerthError, fromSetupFailure, withStep } from './errors.js';
import type { Plan } from './plan.js';
import { runHooks } from './hooks.js';
import { spawner } from './spawner.js';
import { ABORT, ACK, PIDFD_HELD, START, encodePlan, type Message } from './protocol.js';

export interface LaunchOptions {
  id: string;
  plan: Plan;
  /** fds for the child: 0, 1, 2, then the preserved ones. */
  fds: number[];
  /**
   * The container's cgroup driver (plan input `cgroup`): at `sync cgroup` the
   * pid it names (v1: the setup process; v2 where clone3 cannot: the container
   * process) is added; openDir gives the directory fd for plan.cgroupFd (v2).
   */
  cgroup?: { addProcess(pid: number): Promise<void>; openDir?(): number };
}

/** What happened to the process, once it is over. */
export interface Ended {
  /** The container process's own exit, as the monitor saw it. */
  exit?: { code?: number; signal?: number };
  /** The setup process's wait status. */
  status: ExitStatus;
  /** The first setup failure, if any. */
  error?: BerthError;
}

type Waiter = { resolve: () => void; reject: (e: BerthError) => void };

export class Launch {
  readonly id: string;
  /** The setup (monitor) process. */
  readonly setupPid: number;
  /** The container's process (host pid), known once it is created. */
  pid = 0;
  private setupPidfd: number;
  private pidfd = -1;
  private sock: Socket;
  private buf = '';
  private error?: BerthError;
  private exit?: Ended['exit'];
  private waiting = new Map<'ready' | 'started', Waiter>();
  private reached = new Set<string>();
  readonly ended: Promise<Ended>;

  constructor(private opts: LaunchOptions) {
    this.id = opts.id;
    const n = native();
    const sp = spawner();
    const [mine, theirs] = n.socketpair();
    let child: { pid: number; pidfd: number };
    const own = [theirs];
    try {
      // cgroup v2: the directory the setup process clones the container process into, opened here.
      if (opts.plan.cgroupFd !== undefined) own.push(this.openCgroupDir());
      child = sp.spawn(setupPath, ['berth-setup', String(opts.fds.length)], opts.fds, own);
    } catch (e) {
      n.close(mine);
      throw withStep(e, 'start the setup process', opts.id);
    } finally {
      for (const fd of own) n.close(fd);
    }
    this.setupPid = child.pid;
    this.setupPidfd = child.pidfd;
    this.sock = new Socket({ fd: mine, readable: true, writable: true });
    this.sock.on('data', (d) => this.onData(d));
    this.sock.on('error', () => {}); // EPIPE once the process has exited
    this.ended = new Promise((resolve) => {
      sp.watchExit(child.pidfd, (status) => {
        n.close(this.setupPidfd);
        this.closePidfd();
        this.sock.destroy();
        if (!this.error && !this.exit && status.code !== 0)
          this.error = new BerthError(`the setup process ended early (${JSON.stringify(status)})`, { code: 'ECHILD', step: 'setup', containerId: this.id });
        this.settle(this.error ?? new BerthError('the container process exited', { code: 'ESRCH', step: 'start', containerId: this.id }));
        resolve({ exit: this.exit, status, error: this.error });
      });
    });
    this.sock.write(encodePlan(opts.plan.ops));
  }

  private openCgroupDir(): number {
    const open = this.opts.cgroup?.openDir;
    if (!open || this.opts.plan.cgroupFd !== this.opts.fds.length + 1)
      throw new BerthError('the plan clones into a cgroup v2 directory, but Launch was given no such cgroup', { code: 'EINVAL', step: 'join cgroup', containerId: this.id });
    try {
      return open.call(this.opts.cgroup);
    } catch (e) {
      throw withStep(e, 'join cgroup', this.id);
    }
  }

  /** Resolves when the container process is created and waits for start. */
  created(): Promise<void> {
    return this.until('ready');
  }

  /** Releases the container process to exec; resolves once it has. */
  start(): Promise<void> {
    if (this.opts.plan.waitForStart) this.sock.write(START);
    return this.until('started');
  }

  /** Signals the container's process; false if it has already exited. */
  signal(signo: number): boolean {
    if (this.pidfd >= 0) return native().pidfdSendSignal(this.pidfd, signo);
    return false;
  }

  private until(what: 'ready' | 'started'): Promise<void> {
    if (this.reached.has(what)) return Promise.resolve();
    if (this.error) return Promise.reject(this.error);
    return new Promise((resolve, reject) => this.waiting.set(what, { resolve, reject }));
  }

  private settle(err?: BerthError, what?: 'ready' | 'started') {
    if (what) {
      this.reached.add(what);
      this.waiting.get(what)?.resolve();
      this.waiting.delete(what);
      return;
    }
    for (const w of this.waiting.values()) w.reject(err!);
    this.waiting.clear();
  }

  private closePidfd() {
    if (this.pidfd >= 0) native().close(this.pidfd);
    this.pidfd = -1;
  }

  private onData(d: Buffer) {
    this.buf += d.toString('utf8');
    let nl: number;
    while ((nl = this.buf.indexOf('\n')) >= 0) {
      const line = this.buf.slice(0, nl);
      this.buf = this.buf.slice(nl + 1);
      this.onMessage(JSON.parse(line) as Message);
    }
  }

  private onMessage(m: Message) {
    switch (m.t) {
      case 'sync':
        if (m.name === 'cgroup') this.joinCgroup(m.pid);
        else if (m.name === 'hooks') this.runCreateHooks();
        else this.onSync(m.pid);
        break;
      case 'pid':
        this.pid = m.pid;
        // Not waiting for start: the monitor holds off reaping until we have a pidfd.
        if (!this.opts.plan.waitForStart) this.takePidfd() && this.sock.write(PIDFD_HELD);
        break;
      case 'ready':
        // The process waits for START, so it is alive: a pidfd now is safe from reuse.
        this.takePidfd();
        break;
      case 'started':
      case 'detached':
        this.settle(undefined, 'started');
        break;
      case 'error':
        this.error ??= fromSetupFailure(m, this.id);
        break;
      case 'exit':
        this.exit = { code: m.code, signal: m.signal };
        this.closePidfd();
        break;
    }
  }

  private joinCgroup(pid: number) {
    const cg = this.opts.cgroup;
    (cg ? cg.addProcess(pid) : Promise.reject(new Error('the plan joins a cgroup, but Launch was given none'))).then(
      () => this.sock.write(ACK),
      (e) => {
        this.error ??= withStep(e, 'join cgroup', this.id);
        this.sock.write(ABORT);
      },
    );
  }

  /** prestart and createRuntime hooks, in the runtime namespace, while the container process waits. */
  private runCreateHooks() {
    const h = this.opts.plan.hooks;
    const run = async () => {
      if (!h) return;
      // prestart (the older hook) is told "created", as crun does; createRuntime "creating".
      await runHooks(h.hooks, ['prestart'], { ...h.state, status: 'created', pid: this.pid });
      await runHooks(h.hooks, ['createRuntime'], { ...h.state, pid: this.pid });
    };
    run().then(
      () => this.sock.write(ACK),
      (e) => {
        this.error ??= withStep(e, 'createRuntime hooks', this.id);
        this.sock.write(ABORT);
      },
    );
  }

  private takePidfd(): boolean {
    try {
      this.pidfd = native().pidfdOpen(this.pid);
    } catch (e) {
      this.error ??= withStep(e, 'watch the container process', this.id);
      this.settle(this.error);
      return false;
    }
    this.settle(undefined, 'ready');
    return true;
  }

  private onSync(pid: number) {
    const u = this.opts.plan.userns;
    let file = '';
    try {
      if (u) {
        writeFileSync((file = `/proc/${pid}/uid_map`), u.uidMappings);
        writeFileSync((file = `/proc/${pid}/gid_map`), u.gidMappings);
      }
      this.sock.write(ACK);
    } catch (e) {
      const err = withStep(e, 'write uid/gid maps', this.id);
      err.path = file;
      err.message = err.message.replace(/, write \(/, `, write '${file}' (`);
      err.hint = `check linux.${file.endsWith('uid_map') ? 'uidMappings' : 'gidMappings'}`;
      this.error ??= err;
      this.sock.write(ABORT);
    }
  }
}
