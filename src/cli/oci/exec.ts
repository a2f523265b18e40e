// exec: a new process in a running container's namespaces.
import { readFileSync } from 'node:fs';
import { BerthError } from '../../runtime/errors.js';
import { Launch } from '../../runtime/launch.js';
import { buildExecPlan } from '../../runtime/plan.js';
import { validateSpec } from '../../spec/validate.js';
import type { Process } from '../../spec/types.js';
import { needArgs, parseArgs } from './args.js';
import type { Context } from './context.js';
import { writePidFile } from './lifecycle.js';
import { containerCgroup } from './cgroup.js';
import { exitCode, forwardSignals } from './wait.js';

const flagDefs = {
  process: { type: 'string', alias: ['p'] },
  tty: { type: 'bool', alias: ['t'] },
  'console-socket': { type: 'string' },
  detach: { type: 'bool', alias: ['d'] },
  'pid-file': { type: 'string' },
  env: { type: 'list', alias: ['e'] },
  cwd: { type: 'string' },
  user: { type: 'string', alias: ['u'] },
  'additional-gids': { type: 'list', alias: ['g'] },
  cap: { type: 'list', alias: ['c'] },
  'no-new-privs': { type: 'bool' },
  'preserve-fds': { type: 'int' },
  'process-label': { type: 'string' },
  apparmor: { type: 'string' },
  'ignore-paused': { type: 'bool' },
  cgroup: { type: 'list' },
} as const;

function processFrom(base: Process, flags: Record<string, unknown>, args: string[]): Process {
  if (flags.process) {
    const text = readFileSync(flags.process as string, 'utf8');
    return validateSpec({ ociVersion: '1.0.2', process: JSON.parse(text) }).process!;
  }
  if (!args.length) throw new BerthError('exec: no command given (args or --process)', { code: 'EINVAL', step: 'exec' });
  const p: Process = structuredClone(base);
  p.args = args;
  p.terminal = flags.tty === true;
  if (flags.cwd) p.cwd = flags.cwd as string;
  if (flags.env) p.env = [...(p.env ?? []), ...(flags.env as string[])];
  if (flags.user) {
    const [uid, gid] = (flags.user as string).split(':');
    p.user = { ...p.user, uid: Number(uid), gid: gid === undefined ? p.user.gid : Number(gid) };
  }
  if (flags['additional-gids']) p.user.additionalGids = (flags['additional-gids'] as string[]).map(Number);
  if (flags.cap) {
    const c = p.capabilities ?? {};
    for (const set of ['bounding', 'effective', 'permitted', 'ambient', 'inheritable'] as const) {
      if (set === 'ambient' || set === 'inheritable') continue;
      c[set] = [...new Set([...(c[set] ?? []), ...(flags.cap as string[])])];
    }
    p.capabilities = c;
  }
  if (flags['no-new-privs']) p.noNewPrivileges = true;
  return validateSpec({ ociVersion: '1.0.2', process: p }).process!;
}

export async function exec(ctx: Context, argv: string[]): Promise<number> {
  const { flags, rest } = parseArgs(argv, flagDefs);
  needArgs(rest, 1, 'exec');
  const rec = ctx.store.read(rest[0]!);
  const status = ctx.store.status(rec);
  if (status !== 'running' && status !== 'created')
    throw new BerthError(`cannot exec in a ${status} container`, { code: 'ESRCH', step: 'exec', containerId: rec.id });
  const proc = processFrom(rec.spec.process!, flags, rest.slice(1));
  const preserveFds = (flags['preserve-fds'] as number) ?? 0;
  const detach = flags.detach === true;
  const plan = buildExecPlan({
    process: proc,
    pid: rec.pid,
    namespaces: rec.namespaces,
    preserveFds,
    consoleSocket: flags['console-socket'] as string | undefined,
    detach,
    seccomp: rec.spec.linux?.seccomp,
    cgroup: !!rec.cgroupPath,
  });
  const cgroup = rec.cgroupPath ? containerCgroup(rec) : undefined;
  const launch = new Launch({ id: rec.id, plan, fds: [0, 1, 2, ...Array.from({ length: preserveFds }, (_, i) => 3 + i)], cgroup });
  const stop = detach ? () => {} : forwardSignals(launch);
  try {
    await launch.created();
    writePidFile(flags['pid-file'] as string | undefined, launch.pid);
    await launch.start();
  } catch (e) {
    await launch.ended;
    throw e;
  } finally {
    if (detach) stop();
  }
  const ended = await launch.ended;
  stop();
  return detach ? 0 : exitCode(ended);
}
