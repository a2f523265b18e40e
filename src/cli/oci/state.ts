import { needArgs, parseArgs } from './args.js';
import type { Context } from './context.js';
import { liveState } from './cgroup.js';

export async function state(ctx: Context, argv: string[]): Promise<number> {
  const { rest } = parseArgs(argv, {});
  needArgs(rest, 1, 'state');
  ctx.out(JSON.stringify(await liveState(ctx.store, ctx.store.read(rest[0]!)), null, 2));
  return 0;
}
