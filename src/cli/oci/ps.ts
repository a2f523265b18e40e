// ps: the processes in the container's pid namespace.
import { execFileSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { BerthError } from '../../runtime/errors.js';
import { needArgs, parseArgs } from './args.js';
import type { Context } from './context.js';
import { containerCgroup } from './cgroup.js';

export function containerPids(pid: number): number[] {
  const ino = (p: string | number) => statSync(`/proc/${p}/ns/pid`).ino;
  const target = ino(pid);
  const pids: number[] = [];
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      if (ino(p) === target) pids.push(Number(p));
    } catch {
      // gone meanwhile
    }
  }
  return pids.sort((a, b) => a - b);
}

export async function ps(ctx: Context, argv: string[]): Promise<number> {
  const { flags, rest } = parseArgs(argv, { format: { type: 'string', alias: ['f'] } });
  needArgs(rest, 1, 'ps');
  const rec = ctx.store.read(rest[0]!);
  const s = ctx.store.ociState(rec);
  if (s.status === 'stopped') throw new BerthError('container is not running', { code: 'ESRCH', step: 'ps', containerId: s.id });
  // The cgroup has every process (also those of a container sharing the host's pid namespace).
  const pids = rec.cgroupPath ? await containerCgroup(rec).pids() : containerPids(s.pid);
  if (flags.format === 'json') {
    ctx.out(JSON.stringify(pids));
    return 0;
  }
  const psArgs = rest.length > 1 ? rest.slice(1) : ['-ef'];
  const lines = execFileSync('ps', psArgs, { encoding: 'utf8' }).trimEnd().split('\n');
  const col = lines[0]!.trim().split(/\s+/).indexOf('PID');
  ctx.out(lines[0]!);
  for (const l of lines.slice(1)) if (pids.includes(Number(l.trim().split(/\s+/)[col]))) ctx.out(l);
  return 0;
}
