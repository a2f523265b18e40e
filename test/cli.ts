// Runs bin/berth for the black-box CLI tests.
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { testDir } from './helpers.js';

export const bin = join(testDir, '..', 'bin', 'berth');

/**
 * A runner of `bin/berth --root ROOT ...`. Its output goes to files in
 * `work`, not pipes: a detached container keeps the stdio it was given, and a
 * pipe would stay open as long as it runs.
 */
export function berthCli(root: string, work: string) {
  return (args: string[], opts: SpawnSyncOptions & { fds?: number[] } = {}) => {
    const out = join(work, 'out'), err = join(work, 'err');
    const o = openSync(out, 'w'), e = openSync(err, 'w');
    try {
      const r = spawnSync(bin, ['--root', root, ...args], { timeout: 30_000, ...opts, stdio: ['ignore', o, e, ...(opts.fds ?? [])] });
      return { code: r.status ?? 128 + 9, stdout: readFileSync(out, 'utf8'), stderr: readFileSync(err, 'utf8') };
    } finally {
      closeSync(o);
      closeSync(e);
    }
  };
}
