// The clients the compat tests drive come from Debian: installed here when
// missing (a fresh machine has none), so the tests run rather than skip.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** True once every one of `bins` exists, after installing `pkgs` with apt-get if needed. */
export function ensureInstalled(bins: string[], pkgs: string[]): boolean {
  if (bins.every((b) => existsSync(b))) return true;
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const apt = (args: string[]) => spawnSync('apt-get', args, { env, stdio: ['ignore', 'ignore', 'inherit'], timeout: 900_000 }).status === 0;
  apt(['install', '-y', '-q', ...pkgs]) || (apt(['update', '-q']) && apt(['install', '-y', '-q', ...pkgs]));
  return bins.every((b) => existsSync(b));
}
