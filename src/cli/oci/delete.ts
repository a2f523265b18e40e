import { needArgs, parseArgs } from './args.js';
import type { Context } from './context.js';
import { deleteContainer } from './lifecycle.js';

export async function del(ctx: Context, argv: string[]): Promise<number> {
  const { flags, rest } = parseArgs(argv, { force: { type: 'bool', alias: ['f'] } });
  needArgs(rest, 1, 'delete');
  const id = rest[0]!;
  if (!ctx.store.exists(id)) {
    if (flags.force) {
      ctx.store.remove(id);
      return 0;
    }
    ctx.store.read(id); // throws "does not exist"
  }
  await ctx.store.locked(id, () => deleteContainer(ctx.store, ctx.store.read(id), flags.force === true));
  return 0;
}
