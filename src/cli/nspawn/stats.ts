// `berth stats [--interval 1s] [--format json] [NAME...]`: a line per running
// container, for people: CPU over the interval, memory against its limit,
// pids, block I/O. From the same cgroup stats as `events --stats`.
import { parseArgs, UsageError } from '../oci/args.js';
import type { Context } from '../oci/context.js';
import { containerCgroup } from '../oci/cgroup.js';
import type { Stats } from '../../cgroups/stats.js';

const mib = (n: number) => `${(n / 2 ** 20).toFixed(1)}MiB`;
const UNLIMITED = 2 ** 60; // v1 reports "no limit" as a huge page-rounded number

export interface StatsRow {
  name: string;
  cpuPercent: number;
  memory: number;
  memoryLimit?: number;
  pids: number;
  pidsLimit?: number;
  blockRead: number;
  blockWrite: number;
}

/** One row from two samples `ms` apart (pure). 100% is one CPU busy for the whole interval. */
export function statsRow(name: string, a: Stats, b: Stats, ms: number): StatsRow {
  const io = (op: string) => b.blkio.ioServiceBytes.filter((e) => e.op.toLowerCase() === op).reduce((n, e) => n + e.value, 0);
  const limit = b.memory.usage.limit;
  return {
    name,
    cpuPercent: ms > 0 ? Math.max(0, ((b.cpu.usage.total - a.cpu.usage.total) / (ms * 1e6)) * 100) : 0,
    memory: b.memory.usage.usage,
    ...(limit > 0 && limit < UNLIMITED ? { memoryLimit: limit } : {}),
    pids: b.pids.current,
    ...(b.pids.limit > 0 ? { pidsLimit: b.pids.limit } : {}),
    blockRead: io('read'),
    blockWrite: io('write'),
  };
}

export function statsTable(rows: StatsRow[]): string[] {
  const cells = [
    ['NAME', 'CPU %', 'MEM USAGE / LIMIT', 'PIDS', 'BLOCK I/O'],
    ...rows.map((r) => [
      r.name,
      `${r.cpuPercent.toFixed(1)}%`,
      `${mib(r.memory)} / ${r.memoryLimit !== undefined ? mib(r.memoryLimit) : '-'}`,
      `${r.pids}${r.pidsLimit !== undefined ? ` / ${r.pidsLimit}` : ''}`,
      `${mib(r.blockRead)} / ${mib(r.blockWrite)}`,
    ]),
  ];
  const w = cells[0]!.map((_, k) => Math.max(...cells.map((r) => r[k]!.length)));
  return cells.map((r) => r.map((c, k) => c.padEnd(w[k]!)).join('   ').trimEnd());
}

export async function statsVerb(ctx: Context, argv: string[]): Promise<number> {
  const { flags, rest } = parseArgs(argv, { interval: { type: 'string' }, format: { type: 'string' } });
  const iv = (flags.interval as string | undefined) ?? '1s';
  const m = /^(\d+)(ms|s)?$/.exec(iv);
  if (!m) throw new UsageError(`--interval: ${JSON.stringify(iv)}: want a duration like 500ms or 2s`);
  const ms = Number(m[1]) * (m[2] === 'ms' ? 1 : 1000);
  const names = rest.length ? rest : ctx.store.list();
  const drivers = names.map((n) => ({ name: n, cg: containerCgroup(ctx.store.read(n)) }));
  const first = await Promise.all(drivers.map((d) => d.cg.stats()));
  await new Promise((r) => setTimeout(r, ms));
  const rows = await Promise.all(drivers.map(async (d, i) => statsRow(d.name, first[i]!, await d.cg.stats(), ms)));
  if (flags.format === 'json') ctx.out(JSON.stringify(rows));
  else for (const l of statsTable(rows)) ctx.out(l);
  return 0;
}
