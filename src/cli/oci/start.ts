import { needArgs, parseArgs } from './args.js';
import type { Context } from './context.js';
import { startContainer } from './lifecycle.js';

export async function start(ctx: Context, argv: string[]): Promise<number> {
  const { rest } = parseArgs(argv, {});
  needArgs(rest, 1, 'start');
  const id = rest[0]!;
  ctx.store.locked(id, () => startContainer(ctx.store, ctx.store.read(id)));
  return 0;
}
