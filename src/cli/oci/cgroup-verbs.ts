// pause, resume, update, events: they act on the container's cgroup.
import { readFileSync } from 'node:fs';
import { runcStats } from '../../cgroups/index.js';
import { cgroupEvents } from '../../cgroups/events.js';
import { BerthError } from '../../runtime/errors.js';
import type { Resources } from '../../spec/types.js';
import { checkResources } from '../../spec/validate-resources.js';
import { needArgs, parseArgs } from './args.js';
import { containerCgroup, liveState } from './cgroup.js';
import type { Context } from './context.js';

async function running(ctx: Context, id: string, verb: string, want: string[]) {
  const rec = ctx.store.read(id);
  const s = await liveState(ctx.store, rec);
  if (!want.includes(s.status)) throw new BerthError(`container not running: cannot ${verb} a ${s.status} container`, { code: 'ESRCH', step: verb, containerId: id });
  return rec;
}

export async function pause(ctx: Context, argv: string[]): Promise<number> {
  const { rest } = parseArgs(argv, {});
  needArgs(rest, 1, 'pause');
  await containerCgroup(await running(ctx, rest[0]!, 'pause', ['running'])).freeze();
  return 0;
}

export async function resume(ctx: Context, argv: string[]): Promise<number> {
  const { rest } = parseArgs(argv, {});
  needArgs(rest, 1, 'resume');
  await containerCgroup(await running(ctx, rest[0]!, 'resume', ['paused'])).thaw();
  return 0;
}

/** "128m", "1g", "1024" → bytes; "-1" stays. */
function bytes(v: string, flag: string): number {
  const m = /^(-?\d+)([kmgt]?)b?$/i.exec(v.trim());
  if (!m) throw new BerthError(`invalid value for --${flag}: ${JSON.stringify(v)}`, { code: 'EINVAL', step: 'update' });
  return Number(m[1]) * 1024 ** ' kmgt'.indexOf((m[2] || ' ').toLowerCase());
}

const updateFlags = {
  resources: { type: 'string', alias: ['r'] },
  memory: { type: 'string', alias: ['m'] },
  'memory-swap': { type: 'string' },
  'memory-reservation': { type: 'string' },
  'kernel-memory': { type: 'string' },
  'kernel-memory-tcp': { type: 'string' },
  'cpu-shares': { type: 'int' },
  'cpu-period': { type: 'int' },
  'cpu-quota': { type: 'int' },
  'cpu-rt-period': { type: 'int' },
  'cpu-rt-runtime': { type: 'int' },
  'cpuset-cpus': { type: 'string' },
  'cpuset-mems': { type: 'string' },
  'pids-limit': { type: 'int' },
  'blkio-weight': { type: 'int' },
  'l3-cache-schema': { type: 'string' },
  'mem-bw-schema': { type: 'string' },
} as const;

export async function update(ctx: Context, argv: string[]): Promise<number> {
  const { flags: f, rest } = parseArgs(argv, updateFlags);
  needArgs(rest, 1, 'update');
  const id = rest[0]!;
  let r: Resources;
  if (f.resources) {
    const text = f.resources === '-' ? readFileSync(0, 'utf8') : readFileSync(f.resources as string, 'utf8');
    r = JSON.parse(text) as Resources;
  } else {
    r = {};
    const mem: NonNullable<Resources['memory']> = {};
    if (f.memory !== undefined) mem.limit = bytes(f.memory as string, 'memory');
    if (f['memory-swap'] !== undefined) mem.swap = bytes(f['memory-swap'] as string, 'memory-swap');
    if (f['memory-reservation'] !== undefined) mem.reservation = bytes(f['memory-reservation'] as string, 'memory-reservation');
    if (Object.keys(mem).length) r.memory = mem;
    const cpu: NonNullable<Resources['cpu']> = {};
    if (f['cpu-shares'] !== undefined) cpu.shares = f['cpu-shares'] as number;
    if (f['cpu-period'] !== undefined) cpu.period = f['cpu-period'] as number;
    if (f['cpu-quota'] !== undefined) cpu.quota = f['cpu-quota'] as number;
    if (f['cpu-rt-period'] !== undefined) cpu.realtimePeriod = f['cpu-rt-period'] as number;
    if (f['cpu-rt-runtime'] !== undefined) cpu.realtimeRuntime = f['cpu-rt-runtime'] as number;
    if (f['cpuset-cpus'] !== undefined) cpu.cpus = f['cpuset-cpus'] as string;
    if (f['cpuset-mems'] !== undefined) cpu.mems = f['cpuset-mems'] as string;
    if (Object.keys(cpu).length) r.cpu = cpu;
    if (f['pids-limit'] !== undefined) r.pids = { limit: f['pids-limit'] as number };
    if (f['blkio-weight'] !== undefined) r.blockIO = { weight: f['blkio-weight'] as number };
  }
  checkResources(r, 'resources');
  const rec = await running(ctx, id, 'update', ['running', 'paused', 'created']);
  await ctx.store.locked(id, async () => {
    await containerCgroup(rec).update(r);
    // Keep the record true for later verbs (events, exec).
    const linux = (rec.spec.linux ??= {});
    linux.resources = { ...linux.resources, ...r };
    ctx.store.write(rec);
  });
  return 0;
}

export async function events(ctx: Context, argv: string[]): Promise<number> {
  const { flags, rest } = parseArgs(argv, { stats: { type: 'bool' }, interval: { type: 'string' } });
  needArgs(rest, 1, 'events');
  const id = rest[0]!;
  const rec = await running(ctx, id, 'events', ['running', 'paused', 'created']);
  const cg = containerCgroup(rec);
  if (flags.stats) {
    ctx.out(JSON.stringify({ type: 'stats', id, data: runcStats(await cg.stats()) }));
    return 0;
  }
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec((flags.interval as string) ?? '5s');
  if (!m) throw new BerthError(`invalid value for --interval: ${JSON.stringify(flags.interval)}`, { code: 'EINVAL', step: 'events' });
  const interval = Number(m[1]) * (m[2] === 'ms' ? 1 : m[2] === 'm' ? 60_000 : 1000);
  const stop = new AbortController();
  // Ends with the container.
  const watch = setInterval(() => {
    if (ctx.store.status(rec) === 'stopped') stop.abort();
  }, 200);
  try {
    for await (const e of cgroupEvents(id, cg, { interval, signal: stop.signal }))
      ctx.out(JSON.stringify(e.type === 'stats' ? { type: 'stats', id, data: runcStats(e.data) } : { type: 'oom', id }));
  } finally {
    clearInterval(watch);
  }
  return 0;
}
