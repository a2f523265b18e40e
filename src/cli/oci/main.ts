// berth's OCI command line, runc's verbs and flags: `berth [global flags] VERB [flags] ARGS`.
import { StateStore } from '../../runtime/state.js';
import { parseArgs, UsageError } from './args.js';
import type { Context } from './context.js';
import { logError } from './log.js';

type Verb = (ctx: Context, argv: string[]) => Promise<number>;

// Each verb is loaded only when used: the CLI is started 3-4 times per container.
const verbs: Record<string, () => Promise<Verb>> = {
  create: async () => (await import('./create.js')).create,
  start: async () => (await import('./start.js')).start,
  state: async () => (await import('./state.js')).state,
  kill: async () => (await import('./kill.js')).kill,
  delete: async () => (await import('./delete.js')).del,
  // runc's `run ID`, or the nspawn-like face when nspawn's flags come first (src/cli/nspawn).
  run: async () => async (ctx, argv) =>
    (await import('../nspawn/options.js')).isNspawnRun(argv) ? (await import('../nspawn/run.js')).nspawnRun(ctx, argv) : (await import('./run.js')).run(ctx, argv),
  exec: async () => (await import('./exec.js')).exec,
  ps: async () => (await import('./ps.js')).ps,
  list: async () => (await import('./list.js')).list,
  spec: async () => (await import('./spec.js')).spec,
  features: async () => (await import('./features.js')).features,
  pause: async () => (await import('./cgroup-verbs.js')).pause,
  resume: async () => (await import('./cgroup-verbs.js')).resume,
  update: async () => (await import('./cgroup-verbs.js')).update,
  events: async () => (await import('./cgroup-verbs.js')).events,
  // for people: images (src/cli/nspawn/images.ts)
  import: async () => (await import('../nspawn/images.js')).importVerb,
  images: async () => (await import('../nspawn/images.js')).imagesVerb,
  rmi: async () => (await import('../nspawn/images.js')).rmiVerb,
  // for people: detached runs (src/cli/nspawn/logs.ts)
  logs: async () => (await import('../nspawn/logs.js')).logsVerb,
  stop: async () => (await import('../nspawn/logs.js')).stopVerb,
  stats: async () => (await import('../nspawn/stats.js')).statsVerb,
};

const globalFlags = {
  root: { type: 'string' },
  log: { type: 'string' },
  'log-format': { type: 'string' },
  debug: { type: 'bool' },
  'systemd-cgroup': { type: 'bool' },
  rootless: { type: 'string' },
  criu: { type: 'string' },
  help: { type: 'bool', alias: ['h'] },
  version: { type: 'bool', alias: ['v'] },
} as const;

const USAGE = `usage: berth [--root DIR] [--log FILE] [--log-format text|json] VERB [flags] ARGS
verbs: ${Object.keys(verbs).join(', ')}`;

export async function main(argv: string[]): Promise<number> {
  let log: string | undefined;
  let format: string | undefined;
  try {
    const { flags, rest } = parseArgs(argv, globalFlags);
    log = flags.log as string | undefined;
    format = flags['log-format'] as string | undefined;
    if (flags.version) {
      process.stdout.write('berth version 0.1.0\nspec: 1.0.2-dev\n');
      return 0;
    }
    const [name, ...args] = rest;
    if (flags.help || !name) {
      process.stdout.write(`${USAGE}\n`);
      return flags.help ? 0 : 1;
    }
    if (flags['systemd-cgroup']) throw new UsageError('--systemd-cgroup is not supported: berth has no systemd cgroup driver');
    const load = verbs[name];
    if (!load) throw new UsageError(`No help topic for '${name}'`);
    const ctx: Context = {
      store: new StateStore((flags.root as string) ?? '/run/berth'),
      global: flags,
      out: (s) => process.stdout.write(`${s}\n`),
    };
    return await (await load())(ctx, args);
  } catch (e) {
    logError((e as Error).message, log, format);
    return 1;
  }
}
