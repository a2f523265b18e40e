import { needArgs, parseArgs } from './args.js';
import type { Context } from './context.js';
import { killContainer } from './lifecycle.js';

export async function kill(ctx: Context, argv: string[]): Promise<number> {
  const { rest } = parseArgs(argv, { all: { type: 'bool', alias: ['a'] } });
  needArgs(rest, 1, 'kill');
  const id = rest[0]!;
  // --all: without a cgroup driver the container's init is all we signal;
  // it is pid 1 of its namespace, so the others die with it on SIGKILL.
  killContainer(ctx.store, ctx.store.read(id), rest[1] ?? 'SIGTERM');
  return 0;
}
