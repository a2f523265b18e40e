// The library's container handle: create, start, wait, kill, delete.
import { resolve } from 'node:path';
import type { Socket } from 'node:net';
import { v4 as uuidv4 } from 'uuid';
import { native } from '../native.js';
import { validateSpec } from '../spec/validate.js';
import type { Spec } from '../spec/types.js';
import { BerthError } from './errors.js';
import { hostFacts } from './host.js';
import { Launch, type Ended } from './launch.js';
import { buildPlan } from './plan.js';
import { signalName, signalNumber } from './signals.js';
import { prepareStdio, type Stdio } from './stdio.js';

export interface CreateOptions {
  /** Container id; a random UUID when absent. */
  id?: string;
  /** An OCI runtime-spec config (config.json), validated here. */
  spec: Spec | unknown;
  /** Directory that relative `root.path` and mount sources resolve against (default: the current directory). */
  bundle?: string;
  /** 'pipe' (default): Node streams on the container; 'inherit'; 'ignore'; or fds. */
  stdio?: Stdio;
  /** More fds to hand over, as 3, 4, ... in the container (like runc's --preserve-fds). */
  extraFds?: number[];
}

export interface ExitResult {
  /** The exit code; 128+N when signal N ended the process (as runc reports it). */
  exitCode: number;
  /** The signal that ended the process, if one did. */
  signal?: NodeJS.Signals;
}

export type Status = 'created' | 'running' | 'stopped';

const ID = /^[A-Za-z0-9][A-Za-z0-9_.+-]{0,1023}$/;

export class Container {
  readonly id: string;
  readonly spec: Spec;
  readonly stdin?: Socket;
  readonly stdout?: Socket;
  readonly stderr?: Socket;
  private launch: Launch;
  private state: Status = 'created';
  private result?: Promise<ExitResult>;

  /** Use create(): it resolves once the container exists. */
  private constructor(id: string, spec: Spec, launch: Launch, streams: Pick<Container, 'stdin' | 'stdout' | 'stderr'>) {
    this.id = id;
    this.spec = spec;
    this.launch = launch;
    Object.assign(this, streams);
    this.result = launch.ended.then((e) => {
      this.state = 'stopped';
      return toResult(e);
    });
  }

  /** The container's process, as a host pid. */
  get pid(): number {
    return this.launch.pid;
  }

  get status(): Status {
    return this.state;
  }

  /**
   * Creates the container: namespaces, root filesystem and credentials are in
   * place and its process waits to exec. Rejects with a BerthError (or a
   * SpecError for a bad spec) and leaves nothing behind.
   */
  static async create(opts: CreateOptions): Promise<Container> {
    const id = opts.id ?? uuidv4();
    if (!ID.test(id)) throw new BerthError(`invalid container id ${JSON.stringify(id)}`, { code: 'EINVAL', step: 'create', containerId: id });
    const spec = validateSpec(opts.spec);
    const extra = opts.extraFds ?? [];
    const plan = buildPlan({ spec, bundle: resolve(opts.bundle ?? '.'), host: hostFacts(), preserveFds: extra.length });
    const stdio = prepareStdio(opts.stdio);
    let launch: Launch;
    try {
      launch = new Launch({ id, plan, fds: [...stdio.childFds, ...extra] });
    } catch (e) {
      for (const s of [stdio.stdin, stdio.stdout, stdio.stderr]) s?.destroy();
      throw e;
    } finally {
      for (const fd of stdio.closeAfterSpawn) native().close(fd);
    }
    const c = new Container(id, spec, launch, { stdin: stdio.stdin, stdout: stdio.stdout, stderr: stdio.stderr });
    try {
      await launch.created();
    } catch (e) {
      await c.result;
      for (const s of [c.stdin, c.stdout, c.stderr]) s?.destroy();
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

  /** Removes the container; `force` kills it first if it is still running. */
  async delete(opts: { force?: boolean } = {}): Promise<void> {
    if (this.state === 'running' && !opts.force) throw this.stateError('delete', 'stopped');
    if (this.state !== 'stopped') this.launch.signal(signalNumber('SIGKILL'));
    await this.result;
    for (const s of [this.stdin, this.stdout, this.stderr]) s?.destroy();
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
  const c = await Container.create(opts);
  const collect = (s?: Socket) => {
    const chunks: Buffer[] = [];
    s?.on('data', (d: Buffer) => chunks.push(d));
    return new Promise<Buffer>((res) => (s ? s.on('close', () => res(Buffer.concat(chunks))) : res(Buffer.alloc(0))));
  };
  const out = collect(c.stdout);
  const err = collect(c.stderr);
  try {
    await c.start();
    if (c.stdin) c.stdin.end(opts.input ?? '');
    const r = await c.wait();
    return { ...r, stdout: await out, stderr: await err };
  } finally {
    await c.delete({ force: true });
  }
}

