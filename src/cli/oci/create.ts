import { needArgs, parseArgs } from './args.js';
import type { Context } from './context.js';
import { createContainer } from './lifecycle.js';

export const createFlags = {
  bundle: { type: 'string', alias: ['b'] },
  'console-socket': { type: 'string' },
  'pid-file': { type: 'string' },
  'preserve-fds': { type: 'int' },
  'no-pivot': { type: 'bool' },
  'no-new-keyring': { type: 'bool' },
} as const;

export async function create(ctx: Context, argv: string[]): Promise<number> {
  const { flags, rest } = parseArgs(argv, createFlags);
  needArgs(rest, 1, 'create');
  await createContainer(ctx.store, {
    id: rest[0]!,
    bundle: (flags.bundle as string) ?? '.',
    consoleSocket: flags['console-socket'] as string | undefined,
    pidFile: flags['pid-file'] as string | undefined,
    preserveFds: (flags['preserve-fds'] as number) ?? 0,
  });
  return 0;
}
