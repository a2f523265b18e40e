import { parseArgs } from './args.js';
import type { Context } from './context.js';
import { liveState } from './cgroup.js';

export async function list(ctx: Context, argv: string[]): Promise<number> {
  const { flags } = parseArgs(argv, { format: { type: 'string', alias: ['f'] }, quiet: { type: 'bool', alias: ['q'] } });
  const states = await Promise.all(ctx.store.list().map((id) => liveState(ctx.store, ctx.store.read(id))));
  if (flags.quiet) {
    for (const s of states) ctx.out(s.id);
  } else if (flags.format === 'json') {
    ctx.out(JSON.stringify(states));
  } else {
    const rows = [['ID', 'PID', 'STATUS', 'BUNDLE', 'CREATED', 'OWNER'], ...states.map((s) => [s.id, String(s.pid), s.status, s.bundle, s.created, s.owner || 'root'])];
    const w = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
    for (const r of rows) ctx.out(r.map((c, i) => c.padEnd(w[i]! + 3)).join('').trimEnd());
  }
  return 0;
}
