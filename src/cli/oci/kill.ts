import { needArgs, parseArgs } from './args.js';
import type { Context } from './context.js';
import { signalNumber } from '../../runtime/signals.js';
import { containerCgroup } from './cgroup.js';
import { killContainer } from './lifecycle.js';

function signalPid(pid: number, sig: string) {
  try {
    process.kill(pid, signalNumber(sig));
  } catch {
    // gone meanwhile
  }
}

export async function kill(ctx: Context, argv: string[]): Promise<number> {
  const { flags, rest } = parseArgs(argv, { all: { type: 'bool', alias: ['a'] } });
  needArgs(rest, 1, 'kill');
  const id = rest[0]!;
  const rec = ctx.store.read(id);
  const sig = rest[1] ?? 'SIGTERM';
  killContainer(ctx.store, rec, sig);
  // --all: every process in the container's cgroup (containers without a pid namespace).
  if (flags.all) for (const pid of await containerCgroup(rec).pids()) if (pid !== rec.pid) signalPid(pid, sig);
  return 0;
}
