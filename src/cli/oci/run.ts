// run: create + start + wait (or -d: create + start and return).
import { resolve } from 'node:path';
import { hostFacts } from '../../runtime/host.js';
import { Launch } from '../../runtime/launch.js';
import { buildPlan } from '../../runtime/plan.js';
import { processStartTime } from '../../runtime/state.js';
import { needArgs, parseArgs } from './args.js';
import type { Context } from './context.js';
import { createFlags } from './create.js';
import { createContainer, loadSpec, startContainer, writePidFile } from './lifecycle.js';
import { exitCode, forwardSignals } from './wait.js';

export async function run(ctx: Context, argv: string[]): Promise<number> {
  const { flags, rest } = parseArgs(argv, { ...createFlags, detach: { type: 'bool', alias: ['d'] }, 'keep': { type: 'bool' } });
  needArgs(rest, 1, 'run');
  const id = rest[0]!;
  const args = {
    id,
    bundle: (flags.bundle as string) ?? '.',
    consoleSocket: flags['console-socket'] as string | undefined,
    pidFile: flags['pid-file'] as string | undefined,
    preserveFds: (flags['preserve-fds'] as number) ?? 0,
  };
  if (flags.detach) {
    const rec = await createContainer(ctx.store, args);
    startContainer(ctx.store, rec);
    return 0;
  }
  // Attached: the monitor stays, and we wait for the exit through its pidfd.
  const bundle = resolve(args.bundle);
  const spec = loadSpec(bundle);
  const plan = buildPlan({ spec, bundle, host: hostFacts(), preserveFds: args.preserveFds, consoleSocket: args.consoleSocket });
  ctx.store.create(id);
  try {
    const launch = new Launch({ id, plan, fds: [0, 1, 2, ...Array.from({ length: args.preserveFds }, (_, i) => 3 + i)] });
    const stop = forwardSignals(launch);
    try {
      await launch.created();
      ctx.store.write({
        id, pid: launch.pid, startTime: processStartTime(launch.pid) ?? '', bundle, rootfs: plan.rootfs,
        created: new Date().toISOString(), owner: '', annotations: spec.annotations ?? {},
        namespaces: (spec.linux?.namespaces ?? []).map((n) => n.type), spec,
      });
      writePidFile(args.pidFile, launch.pid);
      await launch.start();
    } catch (e) {
      await launch.ended;
      throw e;
    } finally {
      stop();
    }
    return exitCode(await launch.ended);
  } finally {
    if (!flags.keep) ctx.store.remove(id);
  }
}
