// Image verbs for people (as machinectl's import-tar, images, remove):
// `berth import FILE [NAME]`, `berth images`, `berth rmi NAME`. The store is
// /var/lib/berth unless BERTH_DATA_DIR names another.
import * as images from '../../images/index.js';
import { needArgs, parseArgs, UsageError } from '../oci/args.js';
import type { Context } from '../oci/context.js';
import { progressBar } from './progress.js';

const store = () => (process.env.BERTH_DATA_DIR ? { dataDir: process.env.BERTH_DATA_DIR } : {});

export async function importVerb(ctx: Context, argv: string[]): Promise<number> {
  const { flags, rest } = parseArgs(argv, { quiet: { type: 'bool', alias: ['q'] }, format: { type: 'string' } });
  needArgs(rest, 1, 'import FILE [NAME]');
  const format = flags.format as string | undefined;
  if (format !== undefined && !['oci', 'docker', 'rootfs'].includes(format)) throw new UsageError(`--format: ${JSON.stringify(format)}: want oci, docker or rootfs`);
  const bar = flags.quiet ? { update() {}, done() {} } : progressBar(process.stderr);
  let rec;
  try {
    rec = await images.import(rest[0]!, { ...store(), name: rest[1], format: format as 'oci' | 'docker' | 'rootfs' | undefined, onProgress: (p) => bar.update(p) });
  } finally {
    bar.done();
  }
  ctx.out(`${rec.name} ${rec.id}`);
  return 0;
}

export async function imagesVerb(ctx: Context, argv: string[]): Promise<number> {
  const { flags } = parseArgs(argv, { format: { type: 'string' }, quiet: { type: 'bool', alias: ['q'] } });
  const list = images.list(store());
  if (flags.format === 'json') ctx.out(JSON.stringify(list));
  else if (flags.quiet) for (const i of list) ctx.out(i.name);
  else {
    const rows = [['NAME', 'FORMAT', 'LAYERS', 'SIZE', 'CREATED'], ...list.map((i) => [i.name, i.format, String(i.layers.length), `${(i.layers.reduce((a, l) => a + l.size, 0) / 2 ** 20).toFixed(1)} MB`, i.created])];
    const w = rows[0]!.map((_, k) => Math.max(...rows.map((r) => r[k]!.length)));
    for (const r of rows) ctx.out(r.map((c, k) => c.padEnd(w[k]!)).join('   ').trimEnd());
  }
  return 0;
}

export async function rmiVerb(ctx: Context, argv: string[]): Promise<number> {
  const { flags, rest } = parseArgs(argv, { force: { type: 'bool', alias: ['f'] } });
  needArgs(rest, 1, 'rmi NAME');
  for (const name of rest) {
    const r = images.remove(name, { ...store(), force: !!flags.force });
    ctx.out(`${name}: ${r.layersRemoved.length} layer(s) removed`);
  }
  return 0;
}
