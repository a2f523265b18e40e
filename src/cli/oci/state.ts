import { needArgs, parseArgs } from './args.js';
import type { Context } from './context.js';

export async function state(ctx: Context, argv: string[]): Promise<number> {
  const { rest } = parseArgs(argv, {});
  needArgs(rest, 1, 'state');
  ctx.out(JSON.stringify(ctx.store.ociState(ctx.store.read(rest[0]!)), null, 2));
  return 0;
}
