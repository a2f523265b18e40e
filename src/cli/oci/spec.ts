import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BerthError } from '../../runtime/errors.js';
import { defaultSpec } from '../../spec/defaults.js';
import { parseArgs } from './args.js';
import type { Context } from './context.js';

export async function spec(_ctx: Context, argv: string[]): Promise<number> {
  const { flags } = parseArgs(argv, { bundle: { type: 'string', alias: ['b'] }, rootless: { type: 'bool' } });
  const file = join((flags.bundle as string) ?? '.', 'config.json');
  if (existsSync(file)) throw new BerthError(`File ${file} exists. Remove it first`, { code: 'EEXIST', step: 'spec', path: file });
  writeFileSync(file, `${JSON.stringify(defaultSpec({ rootless: flags.rootless === true }), null, '\t')}\n`);
  return 0;
}
