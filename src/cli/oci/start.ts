import { needArgs, parseArgs } from './args.js';
import type { Context } from './context.js';
import { poststart, startContainer } from './lifecycle.js';

export async function start(ctx: Context, argv: string[]): Promise<number> {
  const { rest } = parseArgs(argv, {});
  needArgs(rest, 1, 'start');
  const id = rest[0]!;
  const rec = ctx.store.read(id);
  await ctx.store.locked(id, () => startContainer(ctx.store, rec));
  await poststart(rec);
  return 0;
}
