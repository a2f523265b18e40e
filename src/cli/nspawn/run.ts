// `berth run` for people, the way systemd-nspawn runs a command in a tree:
// a directory (-D) or an imported image (--image, or -M NAME), the host's
// network unless asked otherwise, a terminal when on one. The container is
// registered under --root like the OCI ones, so `berth list`, `state`,
// `exec`, `ps`, `kill` and `events --stats` work on it by name.
import { closeSync, existsSync, lstatSync, mkdirSync, openSync, readFileSync, rmdirSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { Container } from '../../runtime/container.js';
import { processStartTime } from '../../runtime/state.js';
import { signalNumber } from '../../runtime/signals.js';
import { defaultSpec } from '../../spec/defaults.js';
import type { Spec } from '../../spec/types.js';
import { cgroupPlacement } from '../../cgroups/index.js';
import * as images from '../../images/index.js';
import { Networks } from '../../netns/networks.js';
import type { NetworkOption } from '../../netns/attach.js';
import type { Stdio } from '../../runtime/stdio.js';
import { UsageError } from '../oci/args.js';
import type { Context } from '../oci/context.js';
import { parseNspawn, VETH_NETWORK, type NspawnOptions } from './options.js';
import { nspawnSpec } from './spec.js';
import { watchHealth } from './health.js';

const ID = /^[A-Za-z0-9][A-Za-z0-9_.+-]{0,63}$/;

/** A file of a directory tree, if it is a regular file there (never through a symlink that could point at the host's). */
function treeFile(root: string, rel: string): string | undefined {
  const p = join(root, rel);
  try {
    return lstatSync(p).isFile() ? readFileSync(p, 'utf8') : undefined;
  } catch {
    return undefined;
  }
}

interface Root {
  path: string;
  base: Spec;
  fromImage: boolean;
  prepared?: images.PreparedRootfs;
  user?: { uid: number; gid: number };
}

function prepareRoot(o: NspawnOptions, id: string, dataDir?: string): Root {
  const store = dataDir ? { dataDir } : {};
  if ('directory' in o.root) {
    const dir = o.root.directory;
    if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UsageError(`--directory: ${dir} is not a directory`);
    const user = o.user === undefined ? undefined : images.resolveUser(o.user, { passwd: treeFile(dir, 'etc/passwd'), group: treeFile(dir, 'etc/group') });
    const prepared = o.ephemeral ? images.ephemeral(dir, { id, ...store }) : undefined;
    return { path: prepared?.path ?? dir, base: defaultSpec(), fromImage: false, prepared, user };
  }
  const rec = images.inspect(o.root.image, store);
  const prepared = images.rootfs(o.root.image, { id, readonly: o.readOnly, ...store });
  try {
    const cfg = o.user === undefined ? rec : { ...rec, config: { ...rec.config, User: o.user } };
    const hasCmd = !!(rec.config.Entrypoint?.length || rec.config.Cmd?.length);
    const base = images.spec(cfg, { rootfs: prepared, ...store, ...(o.command.length ? { args: o.command } : hasCmd ? {} : { args: ['/bin/sh'] }) });
    return { path: prepared.path, base, fromImage: true, prepared };
  } catch (e) {
    prepared.overlay.release?.();
    throw e;
  }
}

async function networkOption(o: NspawnOptions): Promise<NetworkOption | undefined> {
  const n = o.network;
  if (n.mode === 'host') return undefined;
  if (n.mode === 'none') return 'none';
  const nets = new Networks();
  if (n.network === VETH_NETWORK.name) await nets.ensure(VETH_NETWORK);
  else nets.get(n.network); // names the network if it does not exist
  return { mode: 'bridge', networks: [n.network], publish: o.ports };
}

export async function nspawnRun(ctx: Context, argv: string[]): Promise<number> {
  const o = parseNspawn(argv);
  const id = o.name ?? `berth-${randomBytes(3).toString('hex')}`;
  if (!ID.test(id)) throw new UsageError(`--machine: ${JSON.stringify(id)}: 1-64 of A-Z a-z 0-9 _ . + -, starting with a letter or digit`);
  const onTty = !!process.stdin.isTTY && !!process.stdout.isTTY;
  const mode = o.console ?? (onTty && !o.timestamps ? 'interactive' : 'pipe');
  const terminal = mode === 'interactive' || mode === 'read-only';
  if (terminal && !process.stdout.isTTY) throw new UsageError(`--console=${mode}: standard output is not a terminal`);
  if (terminal && o.timestamps) throw new UsageError(`--timestamps: not with a terminal (--console=${mode}); use --console=pipe`);
  if (o.health && o.health.check.kind !== 'cmd' && !('host' in o.health.check && o.health.check.host) && o.network.mode === 'none')
    throw new UsageError(`--health-${o.health.check.kind}: with --private-network the host cannot reach the container; use --health-cmd`);
  if (o.detach && o.console !== undefined && o.console !== 'passive' && o.console !== 'pipe')
    throw new UsageError(`--console=${o.console}: a detached run has no terminal; its output goes to berth logs`);
  if (o.detach) return detach(ctx, argv, o, id);
  const say = (s: string) => o.quiet || process.stderr.write(`${s}\n`);
  const log = o.logFile ? openSync(o.logFile, 'a') : undefined;

  // One run after another while --restart says so; SIGTERM or SIGINT to us ends that.
  const run: Run = { stopping: false };
  const stopSignals = forwardSignals(run, o.killSignal);
  let code = 0;
  try {
    for (let runs = 1; ; runs++) {
      code = await runOnce(ctx, o, id, { mode, terminal, say, log }, run);
      const again = !run.stopping && (o.restart.policy === 'always' || (o.restart.policy === 'on-failure' && code !== 0 && (o.restart.max === undefined || runs <= o.restart.max)));
      if (!again) break;
      const wait = Math.min(100 * 2 ** (runs - 1), 5000);
      say(`Container ${id} ended (${code}); restarting in ${wait} ms (restart ${runs}${o.restart.max !== undefined ? ` of ${o.restart.max}` : ''}).`);
      await new Promise((r) => setTimeout(r, wait));
      if (run.stopping) break;
    }
  } finally {
    stopSignals();
    if (log !== undefined) closeSync(log);
  }
  return code;
}

interface Run {
  /** The container running now. */
  c?: Container;
  /** Asked to stop: no restart. */
  stopping: boolean;
}

interface RunIo {
  mode: string;
  terminal: boolean;
  say: (s: string) => void;
  log?: number;
}

/** Creates, runs and removes the container once; its exit code. */
async function runOnce(ctx: Context, o: NspawnOptions, id: string, io: RunIo, run: Run): Promise<number> {
  const { mode, terminal, say } = io;
  ctx.store.create(id); // EEXIST names it
  let root: Root | undefined;
  let c: Container | undefined;
  try {
    root = prepareRoot(o, id, process.env.BERTH_DATA_DIR);
    const spec = nspawnSpec(o, root.base, {
      rootPath: root.path,
      user: root.user,
      terminal,
      term: process.env.TERM,
      size: terminal && process.stdout.columns ? { width: process.stdout.columns, height: process.stdout.rows } : undefined,
      fromImage: root.fromImage,
    });
    const stdio: Stdio = terminal ? 'ignore' : o.timestamps ? ['inherit', 'pipe', 'pipe'] : mode === 'passive' ? ['ignore', 1, 2] : 'inherit';
    c = await Container.create({ id, spec, stdio, overlay: root.prepared?.overlay, network: await networkOption(o), init: o.asPid2 });
    ctx.store.write({
      id,
      pid: c.pid,
      startTime: processStartTime(c.pid) ?? '',
      bundle: process.cwd(),
      rootfs: root.path,
      created: new Date().toISOString(),
      owner: '',
      annotations: { ...(spec.annotations ?? {}), 'org.berth.run': 'nspawn', 'org.berth.supervisor': `${process.pid}:${processStartTime(process.pid) ?? ''}` },
      namespaces: (spec.linux?.namespaces ?? []).map((n) => n.type),
      cgroupPath: cgroupPlacement(spec.linux?.cgroupsPath, id),
      spec,
    });
  } catch (e) {
    if (!c) root?.prepared?.overlay.release?.();
    await c?.delete({ force: true }).catch(() => {});
    ctx.store.remove(id);
    throw e;
  }
  const ct = (run.c = c);
  say(`Spawning container ${id} on ${'directory' in o.root ? o.root.directory : `image ${o.root.image}`}.`);
  if (terminal && mode === 'interactive') say('Press ^] three times within 1s to kill container.');

  const detachTty = terminal ? attachTerminal(ct, mode === 'interactive') : () => {};
  const logs = o.timestamps ? [timestamped(ct.stdout!, process.stdout, 'stdout', io.log), timestamped(ct.stderr!, process.stderr, 'stderr', io.log)] : [];
  let stopHealth = () => {};
  let unhealthy: string | undefined;
  let code: number;
  try {
    await ct.start();
    if (o.health) {
      const address = o.network.mode === 'bridge' ? (ct.network?.addresses[0]?.ip ?? '127.0.0.1') : '127.0.0.1';
      stopHealth = watchHealth(o.health, { root: ctx.store.root, name: id, address }, (why) => {
        unhealthy = why;
        say(`Container ${id} is unhealthy: ${why}.`);
        ct.kill('SIGKILL');
      });
    }
    const r = await ct.wait();
    code = r.exitCode;
    if (r.oomKilled) say(`Container ${id} was killed: out of memory.`);
  } finally {
    stopHealth();
    await detachTty();
    await Promise.all(logs);
    await ct.delete({ force: true });
    ctx.store.remove(id);
    run.c = undefined;
  }
  if (unhealthy !== undefined && code === 0) code = 1;
  say(code === 0 ? `Container ${id} exited successfully.` : `Container ${id} failed with error code ${code}.`);
  return code;
}

/** Copies a container's output line by line, each prefixed with an RFC 3339 time; to the log file too (with the stream's name). */
function timestamped(from: NodeJS.ReadableStream, to: NodeJS.WritableStream, name: string, log: number | undefined): Promise<void> {
  let rest = '';
  const emit = (line: string) => {
    const t = new Date().toISOString();
    to.write(`${t} ${line}\n`);
    if (log !== undefined) writeSync(log, `${t} ${name} ${line}\n`);
  };
  from.setEncoding('utf8');
  from.on('data', (d: string) => {
    const lines = (rest + d).split('\n');
    rest = lines.pop()!;
    for (const l of lines) emit(l);
  });
  return new Promise((resolve) =>
    from.once('close', () => {
      if (rest) emit(rest);
      resolve();
    }),
  );
}

/** SIGTERM asks the container to stop with --kill-signal (nspawn's default: SIGKILL), and ends --restart; SIGINT too; SIGHUP and SIGQUIT pass through. */
function forwardSignals(run: Run, killSignal = 'SIGKILL'): () => void {
  const sig = signalNumber(killSignal);
  const handlers: [NodeJS.Signals, () => void][] = [
    ['SIGTERM', () => ((run.stopping = true), run.c?.kill(sig))],
    ['SIGINT', () => ((run.stopping = true), run.c?.kill('SIGINT'))],
    ['SIGHUP', () => run.c?.kill('SIGHUP')],
    ['SIGQUIT', () => run.c?.kill('SIGQUIT')],
  ];
  for (const [s, h] of handlers) process.on(s, h);
  return () => {
    for (const [s, h] of handlers) process.off(s, h);
  };
}

/** The terminal on ours: raw input (with nspawn's ^]^]^] escape), output, window size. Returns a detach that waits for the output to drain. */
function attachTerminal(c: Container, input: boolean): () => Promise<void> {
  const t = c.terminal!;
  const stdin = process.stdin;
  const closed = new Promise<void>((r) => t.stream.once('close', () => r()));
  t.stream.on('data', (d: Buffer) => process.stdout.write(d));
  const resize = () => t.resize(process.stdout.columns, process.stdout.rows);
  process.stdout.on('resize', resize);
  let escapes: number[] = [];
  const onInput = (d: Buffer) => {
    for (const b of d) {
      if (b !== 0x1d) {
        escapes = [];
        continue;
      }
      const now = Date.now();
      escapes = [...escapes.filter((x) => now - x < 1000), now];
      if (escapes.length >= 3) {
        process.stderr.write('\r\nContainer killed.\r\n');
        c.kill('SIGKILL');
        return;
      }
    }
    t.stream.write(d);
  };
  if (input) {
    stdin.setRawMode?.(true);
    stdin.on('data', onInput);
    stdin.resume();
  }
  return async () => {
    await Promise.race([closed, new Promise((r) => setTimeout(r, 1000).unref())]);
    process.stdout.off('resize', resize);
    if (input) {
      stdin.off('data', onInput);
      stdin.setRawMode?.(false);
      stdin.pause();
    }
  };
}

/** The log of a detached run: `<root>/.logs/<name>.log`, kept after the container until `berth logs --rm`. */
export const logPath = (root: string, id: string) => join(root, '.logs', `${id}.log`);

/**
 * -d: the same run, under a supervisor in its own session (this bundle again,
 * stdio on the log). Returns once the container is registered, or with the
 * log when it could not start.
 */
async function detach(ctx: Context, argv: string[], o: NspawnOptions, id: string): Promise<number> {
  if (ctx.store.exists(id)) throw new UsageError(`container with id ${id} already exists`);
  const file = logPath(ctx.store.root, id);
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  writeFileSync(file, '');
  const flagsEnd = argv.length - o.command.length;
  const flags = argv.slice(0, flagsEnd).filter((a) => !/^--?(d|detach)(=.*)?$/.test(a));
  const err = openSync(file, 'a');
  const child = spawn(process.execPath, [process.argv[1]!, '--root', ctx.store.root, 'run', '-M', id, '--console', 'passive', '--log-file', file, ...flags, ...o.command], {
    detached: true,
    stdio: ['ignore', 'ignore', err],
    env: process.env,
  });
  closeSync(err);
  let exited: number | null | undefined;
  child.once('exit', (code) => (exited = code ?? 1));
  for (const end = Date.now() + 60_000; Date.now() < end; await new Promise((r) => setTimeout(r, 25))) {
    if (exited !== undefined) break;
    try {
      if (ctx.store.read(id).pid > 0) {
        child.unref();
        ctx.out(id);
        return 0;
      }
    } catch {
      // not registered yet
    }
  }
  if (exited === undefined) child.kill('SIGTERM');
  // It never ran: what it said is shown here, and no log is kept.
  process.stderr.write(readFileSync(file, 'utf8'));
  rmSync(file, { force: true });
  try {
    rmdirSync(dirname(file));
  } catch {
    // other logs are there
  }
  return exited || 1;
}
