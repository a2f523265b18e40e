// The library's container handle: create, start, wait, kill, delete.
import { resolve } from 'node:path';
import type { Socket } from 'node:net';
import { v4 as uuidv4 } from 'uuid';
import { native } from '../native.js';
import { validateSpec } from '../spec/validate.js';
import type { Resources, Spec } from '../spec/types.js';
import { checkResources } from '../spec/validate-resources.js';
import { cgroupPlacement, openCgroup, type CgroupDriver, type Stats } from '../cgroups/index.js';
import { cgroupEvents, type ContainerEvent, type EventsOptions } from '../cgroups/events.js';
import type { OverlayRootfs } from '../mounts/overlay.js';
import { NetworkAttachment, type NetworkInfo, type NetworkOption } from '../netns/attach.js';
import { BerthError } from './errors.js';
import { hostFacts } from './host.js';
import { hookState, runPoststop, runWarning } from './hooks.js';
import { Launch, type Ended } from './launch.js';
import { buildPlan } from './plan.js';
import { signalName, signalNumber } from './signals.js';
import { prepareStdio, type Stdio } from './stdio.js';
import { Terminal, type ConsoleListener } from './terminal.js';

export interface CreateOptions {
  /** Container id; a random UUID when absent. */
  id?: string;
  /** An OCI runtime-spec config (config.json), validated here. */
  spec: Spec | unknown;
  /** Directory that relative `root.path` and mount sources resolve against (default: the current directory). */
  bundle?: string;
  /** 'pipe' (default): Node streams on the container; 'inherit'; 'ignore'; or fds. Unused with process.terminal: see Container.terminal. */
  stdio?: Stdio;
  /** More fds to hand over, as 3, 4, ... in the container (like runc's --preserve-fds). */
  extraFds?: number[];
  /** An overlay root (images.rootfs(), src/mounts/overlay.ts) mounted at root.path; released with the container. */
  overlay?: OverlayRootfs;
  /**
   * false: the process execs as soon as it is set up; create() resolves then
   * and start() only waits for the exec. run() uses it to save a round trip.
   */
  waitForStart?: boolean;
  /** 'host', 'none', bridge networks with published ports, or another container's namespace (src/netns/attach.ts). Set up before the process execs. */
  network?: NetworkOption;
  /**
   * A minimal init runs as pid 1 and the process as pid 2 (systemd-nspawn's
   * --as-pid2, docker's --init): it reaps orphans and passes signals on. The
   * exit is the process's, with 128+N for signal N (no `signal`).
   */
  init?: boolean;
}

export interface ExitResult {
  /** The exit code; 128+N when signal N ended the process (as runc reports it). */
  exitCode: number;
  /** The signal that ended the process, if one did. */
  signal?: NodeJS.Signals;
  /** Set when the kernel's OOM killer killed a process of the container (its memory limit was hit). */
  oomKilled?: true;
}

export type Status = 'created' | 'running' | 'paused' | 'stopped';

const ID = /^[A-Za-z0-9][A-Za-z0-9_.+-]{0,1023}$/;

export class Container {
  readonly id: string;
  readonly spec: Spec;
  /** The bundle directory the spec's relative paths resolved against. */
  bundle = '';
  readonly stdin?: Socket;
  readonly stdout?: Socket;
  readonly stderr?: Socket;
  /** With process.terminal: the container's terminal (its stdio), as a stream on the pty master. */
  readonly terminal?: Terminal;
  private launch: Launch;
  private state: Status = 'created';
  private result?: Promise<ExitResult>;
  private overlay?: OverlayRootfs;
  private cgroup: CgroupDriver;
  private streams = new Set<{ end(): void }>();
  private net?: NetworkAttachment;

  /** Use create(): it resolves once the container exists. */
  private constructor(id: string, spec: Spec, launch: Launch, cgroup: CgroupDriver, streams: Pick<Container, 'stdin' | 'stdout' | 'stderr'>) {
    this.id = id;
    this.spec = spec;
    this.launch = launch;
    this.cgroup = cgroup;
    Object.assign(this, streams);
    this.result = launch.ended.then(async (e) => {
      const r = toResult(e);
      if (await cgroup.oomKills().catch(() => 0)) r.oomKilled = true;
      this.state = 'stopped';
      return r;
    });
  }

  /** The container's process, as a host pid. */
  get pid(): number {
    return this.launch.pid;
  }

  get status(): Status {
    return this.state;
  }

  /** The container's network: mode, addresses, published ports (when create() was given `network`). */
  get network(): NetworkInfo | undefined {
    return this.net?.info;
  }

  /**
   * Creates the container: namespaces, root filesystem and credentials are in
   * place and its process waits to exec. Rejects with a BerthError (or a
   * SpecError for a bad spec) and leaves nothing behind.
   */
  static async create(opts: CreateOptions): Promise<Container> {
    const id = opts.id ?? uuidv4();
    if (!ID.test(id)) throw new BerthError(`invalid container id ${JSON.stringify(id)}`, { code: 'EINVAL', step: 'create', containerId: id });
    const extra = opts.extraFds ?? [];
    let spec, plan, cgroup: CgroupDriver, net: NetworkAttachment | undefined;
    let tty: ConsoleListener | undefined;
    try {
      spec = validateSpec(opts.spec);
      if (opts.network !== undefined) spec = (net = NetworkAttachment.prepare(opts.network, id)).adjustSpec(spec);
      // A terminal: berth makes the console socket the pty master comes back on.
      if (spec.process?.terminal) tty = Terminal.listen(id);
      // A network is set up while the process waits to exec.
      plan = buildPlan({ id, spec, bundle: resolve(opts.bundle ?? '.'), host: hostFacts(), preserveFds: extra.length, overlay: opts.overlay, cgroup: true, waitForStart: net ? true : opts.waitForStart, consoleSocket: tty?.path, init: opts.init });
      for (const w of plan.warnings) process.emitWarning(w, 'BerthWarning');
      const l = spec.linux;
      cgroup = openCgroup({ path: cgroupPlacement(l?.cgroupsPath, id), resources: l?.resources, devices: l?.devices });
    } catch (e) {
      if (e instanceof BerthError) e.containerId ??= id;
      tty?.close();
      await net?.detach();
      await opts.overlay?.release?.();
      throw e;
    }
    const stdio = prepareStdio(tty ? 'ignore' : opts.stdio);
    let launch: Launch;
    try {
      // Made (limits applied) before any process exists; the setup process joins it first thing.
      await cgroup.create();
      launch = new Launch({ id, plan, fds: [...stdio.childFds, ...extra], cgroup });
    } catch (e) {
      if (e instanceof BerthError) e.containerId ??= id;
      for (const s of [stdio.stdin, stdio.stdout, stdio.stderr]) s?.destroy();
      tty?.close();
      await cgroup.destroy();
      await net?.detach();
      await opts.overlay?.release?.();
      throw e;
    } finally {
      for (const fd of stdio.closeAfterSpawn) native().close(fd);
    }
    const c = new Container(id, spec, launch, cgroup, { stdin: stdio.stdin, stdout: stdio.stdout, stderr: stdio.stderr });
    c.overlay = opts.overlay;
    c.bundle = resolve(opts.bundle ?? '.');
    try {
      await launch.created();
      // Sent before the process reported ready; it may still be in flight.
      if (tty) (c as { terminal?: Terminal }).terminal = await withTimeout(tty.received, 5000, id);
    } catch (e) {
      tty?.close();
      // A process left waiting to start (its terminal never came) must go too; a no-op once it has ended.
      launch.signal(signalNumber('SIGKILL'));
      await c.result;
      if (e instanceof BerthError && (await cgroup.oomKills().catch(() => 0))) {
        e.hint = 'the memory limit may be too low (linux.resources.memory.limit)';
        e.message += `: ${e.hint}`;
      }
      for (const s of [c.stdin, c.stdout, c.stderr]) s?.destroy();
      await cgroup.destroy();
      await net?.detach();
      await c.releaseOverlay();
      throw e;
    }
    c.net = net;
    try {
      await net?.attach(c.pid);
    } catch (e) {
      if (e instanceof BerthError) e.containerId ??= id;
      await c.delete({ force: true });
      throw e;
    }
    return c;
  }

  /** Execs the container's process; rejects (e.g. ENOENT, step "exec") if it cannot. */
  async start(): Promise<void> {
    if (this.state !== 'created') throw this.stateError('start', 'created');
    this.state = 'running';
    try {
      await this.launch.start();
    } catch (e) {
      await this.result;
      throw e;
    }
    for (const w of await runWarning(this.spec.hooks, 'poststart', hookState(this.spec, this.id, this.bundle, 'running', this.pid)))
      process.emitWarning(w, 'BerthHookWarning');
  }

  /** Resolves with the exit once the container's process has ended (watched through a pidfd). */
  wait(): Promise<ExitResult> {
    return this.result!;
  }

  /** Sends a signal to the container's process; false if it had already exited. */
  kill(signal: NodeJS.Signals | number = 'SIGTERM'): boolean {
    if (this.state === 'stopped') return false;
    return this.launch.signal(signalNumber(signal));
  }

  /** Removes the container and its cgroup (with any the workload made below it); `force` kills it first if it is still running. */
  async delete(opts: { force?: boolean } = {}): Promise<void> {
    if ((this.state === 'running' || this.state === 'paused') && !opts.force) throw this.stateError('delete', 'stopped');
    if (this.state !== 'stopped') this.launch.signal(signalNumber('SIGKILL'));
    // A frozen process dies of SIGKILL only once thawed (cgroup v1).
    if (this.state === 'paused') await this.cgroup.thaw();
    await this.result;
    await this.net?.detach();
    for (const s of [this.stdin, this.stdout, this.stderr]) s?.destroy();
    this.terminal?.stream.destroy();
    for (const e of this.streams) e.end();
    await this.cgroup.destroy();
    await this.releaseOverlay();
    // poststop failures are warnings (OCI runtime spec); they are emitted, not thrown.
    for (const w of await runPoststop(this.spec.hooks, hookState(this.spec, this.id, this.bundle, 'stopped', 0)))
      process.emitWarning(w, 'BerthHookWarning');
  }

  /** Freezes every process of the container; rejects (ETIMEDOUT, thawed again) if that does not complete in timeoutMs. */
  async pause(timeoutMs?: number): Promise<void> {
    if (this.state !== 'running') throw this.stateError('pause', 'running');
    await this.cgroup.freeze(timeoutMs);
    this.state = 'paused';
  }

  async resume(): Promise<void> {
    if (this.state !== 'paused') throw this.stateError('resume', 'paused');
    await this.cgroup.thaw();
    this.state = 'running';
  }

  /** Changes linux.resources live: the parts given replace those in force (`{memory: {limit}}` keeps the swap setting). */
  async update(resources: Resources): Promise<void> {
    checkResources(resources, 'linux.resources');
    await this.cgroup.update(resources);
  }

  /** CPU, memory, pids, I/O and hugetlb figures of the container's cgroup. */
  stats(): Promise<Stats> {
    return this.cgroup.stats();
  }

  /** Host pids of every process in the container's cgroup (on cgroup v1 the setup process that monitors it too; on v2 it stays outside). */
  pids(): Promise<number[]> {
    return this.cgroup.pids();
  }

  /** OOM events, and with `interval` stats events (as `runc events`), until delete() or `signal`. */
  events(opts?: EventsOptions): AsyncIterableIterator<ContainerEvent> {
    const q = cgroupEvents(this.id, this.cgroup, opts);
    this.streams.add(q);
    return q;
  }

  /** Once: the overlay's upper and work directories go with the container. */
  private async releaseOverlay(): Promise<void> {
    const o = this.overlay;
    this.overlay = undefined;
    await o?.release?.();
  }

  private stateError(verb: string, want: string) {
    return new BerthError(`cannot ${verb} container ${this.id}: it is ${this.state}, not ${want}`, {
      code: 'EBUSY',
      step: verb,
      containerId: this.id,
    });
  }
}

function toResult(e: Ended): ExitResult {
  const sig = e.exit?.signal ?? e.status.signal;
  if (sig) return { exitCode: 128 + sig, signal: signalName(sig) };
  return { exitCode: e.exit?.code ?? e.status.code ?? 255 };
}

export const create = (opts: CreateOptions) => Container.create(opts);

export interface RunResult extends ExitResult {
  /** What the container wrote, when stdout/stderr were piped. */
  stdout: Buffer;
  stderr: Buffer;
}

/** Creates, starts and waits for a container; deletes it. `input` is written to its stdin. */
export async function run(opts: CreateOptions & { input?: string | Buffer }): Promise<RunResult> {
  const c = await Container.create({ waitForStart: false, ...opts });
  const collect = (s?: Socket) => {
    const chunks: Buffer[] = [];
    s?.on('data', (d: Buffer) => chunks.push(d));
    return new Promise<Buffer>((res) => (s ? s.on('close', () => res(Buffer.concat(chunks))) : res(Buffer.alloc(0))));
  };
  // With process.terminal, stdout is the terminal's output (stderr is in it too).
  const out = collect(c.terminal?.stream ?? c.stdout);
  const err = collect(c.stderr);
  try {
    await c.start();
    if (c.stdin) c.stdin.end(opts.input ?? '');
    if (c.terminal && opts.input !== undefined) c.terminal.stream.write(opts.input);
    const r = await c.wait();
    return { ...r, stdout: await out, stderr: await err };
  } finally {
    await c.delete({ force: true });
  }
}

function withTimeout<T>(p: Promise<T>, ms: number, containerId: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new BerthError(`no terminal from the setup process within ${ms} ms`, { code: 'ETIMEDOUT', step: 'console', containerId })), ms);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}
