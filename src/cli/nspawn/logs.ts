// For detached runs (`berth run -d`): `berth logs [-f] [--rm] NAME` and
// `berth stop [-t SECS] NAME`.
import { closeSync, existsSync, openSync, readSync, rmdirSync, rmSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { BerthError } from '../../runtime/errors.js';
import { processStartTime } from '../../runtime/state.js';
import { needArgs, parseArgs } from '../oci/args.js';
import type { Context } from '../oci/context.js';
import { logPath } from './run.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function logsVerb(ctx: Context, argv: string[]): Promise<number> {
  const { flags, rest } = parseArgs(argv, { follow: { type: 'bool', alias: ['f'] }, rm: { type: 'bool' } });
  needArgs(rest, 1, 'logs');
  const id = rest[0]!;
  const file = logPath(ctx.store.root, id);
  if (!existsSync(file)) throw new BerthError(`no log for ${id} (berth run -d writes one)`, { code: 'ENOENT', step: 'logs', path: file });
  if (flags.rm) {
    if (ctx.store.exists(id)) throw new BerthError(`container ${id} is still running: stop it first`, { code: 'EBUSY', step: 'logs' });
    rmSync(file);
    try {
      rmdirSync(dirname(file));
    } catch {
      // other logs are there
    }
    return 0;
  }
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.alloc(64 * 1024);
    let pos = 0;
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, pos);
      if (n > 0) {
        process.stdout.write(buf.subarray(0, n));
        pos += n;
        continue;
      }
      // -f: until the container is gone and all it wrote is out
      if (!flags.follow || (!ctx.store.exists(id) && statSync(file).size <= pos)) return 0;
      await sleep(100);
    }
  } finally {
    closeSync(fd);
  }
}

export async function stopVerb(ctx: Context, argv: string[]): Promise<number> {
  const { flags, rest } = parseArgs(argv, { time: { type: 'int', alias: ['t'] } });
  needArgs(rest, 1, 'stop');
  const id = rest[0]!;
  const rec = ctx.store.read(id);
  const [pid, start] = (rec.annotations['org.berth.supervisor'] ?? '').split(':');
  if (!pid) throw new BerthError(`container ${id} was not started by berth run: use berth kill / delete`, { code: 'EINVAL', step: 'stop', containerId: id });
  // SIGTERM to its berth run: --kill-signal to the container, and no restart.
  if (processStartTime(Number(pid)) === start) process.kill(Number(pid), 'SIGTERM');
  for (const end = Date.now() + ((flags.time as number | undefined) ?? 10) * 1000; ctx.store.exists(id) && Date.now() < end; ) await sleep(50);
  if (ctx.store.exists(id)) throw new BerthError(`container ${id} did not stop in time`, { code: 'ETIMEDOUT', step: 'stop', containerId: id });
  return 0;
}
