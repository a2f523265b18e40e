// run: create + start + wait (or -d: create + start and return).
import { hookState, runPoststop } from '../../runtime/hooks.js';
import { needArgs, parseArgs } from './args.js';
import { containerCgroup } from './cgroup.js';
import type { Context } from './context.js';
import { createFlags } from './create.js';
import { createContainer, launchContainer, poststart, startContainer } from './lifecycle.js';
import { exitCode, forwardSignals } from './wait.js';
import { forwardReady, listenNotify } from './notify.js';
import { processStartTime } from '../../runtime/state.js';

export async function run(ctx: Context, argv: string[]): Promise<number> {
  const { flags, rest } = parseArgs(argv, { ...createFlags, detach: { type: 'bool', alias: ['d'] }, keep: { type: 'bool' } });
  needArgs(rest, 1, 'run');
  const args = {
    id: rest[0]!,
    bundle: (flags.bundle as string) ?? '.',
    consoleSocket: flags['console-socket'] as string | undefined,
    pidFile: flags['pid-file'] as string | undefined,
    preserveFds: (flags['preserve-fds'] as number) ?? 0,
  };
  if (flags.detach) {
    const rec = await createContainer(ctx.store, args);
    startContainer(ctx.store, rec);
    await poststart(rec);
    return 0;
  }
  // Attached: the monitor stays, and we wait for the exit through its pidfd.
  const { rec, launch } = await launchContainer(ctx.store, args, true);
  const { spec } = rec;
  const stop = forwardSignals(launch);
  try {
    try {
      const notifyFd = rec.notify && listenNotify(rec.notify);
      await launch.start();
      if (rec.notify && notifyFd !== undefined) forwardReady(rec.notify, notifyFd, () => processStartTime(rec.pid) === rec.startTime);
      await poststart(rec);
    } catch (e) {
      launch.signal(9);
      await launch.ended;
      throw e;
    }
    const code = exitCode(await launch.ended);
    for (const w of await runPoststop(spec.hooks, hookState(spec, rec.id, rec.bundle, 'stopped', 0))) process.stderr.write(`warning: ${w}\n`);
    return code;
  } finally {
    stop();
    if (!flags.keep) {
      await containerCgroup(rec).destroy();
      ctx.store.remove(rec.id);
    }
  }
}
