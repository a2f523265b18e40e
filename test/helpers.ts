// Shared by the tests: the busybox rootfs (test/make-rootfs.sh) and specs for it.
import { existsSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultSpec, run, type RunResult, type Spec } from '../src/index.js';

const here = dirname(fileURLToPath(import.meta.url));
/** The source tree's test/ folder (tests run from dist/test). */
export const testDir = join(here, '..', '..', 'test');
export const rootfs = join(testDir, '.rootfs', 'busybox');

if (!existsSync(join(rootfs, 'bin', 'busybox'))) throw new Error(`no test rootfs at ${rootfs}: run bash test/make-rootfs.sh`);

/** runc's default spec for the busybox rootfs, running `args`, no terminal. */
export function spec(args: string[], edit?: (s: Spec) => void): Spec {
  const s = defaultSpec();
  s.process!.terminal = false;
  s.process!.args = args;
  s.root = { path: rootfs, readonly: false };
  edit?.(s);
  return s;
}

/** Runs `sh -c script` in a container; returns exit code and output. */
export function sh(script: string, edit?: (s: Spec) => void, input?: string): Promise<RunResult> {
  return run({ spec: spec(['sh', '-c', script], edit), input });
}

export const out = (r: RunResult) => r.stdout.toString();

/** This process's open fds and what they point at (to find leaks). */
export function fdTable(): Map<string, string> {
  const m = new Map<string, string>();
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      m.set(fd, readlinkSync(`/proc/self/fd/${fd}`));
    } catch {
      // readdirSync's own directory fd, closed already
    }
  }
  return m;
}

/** Pids of this process's children, running or zombie, sorted. */
export const childPids = () =>
  readdirSync('/proc/self/task')
    .flatMap((tid) => readFileSync(`/proc/self/task/${tid}/children`, 'utf8').trim().split(/\s+/))
    .filter(Boolean)
    .sort();

/** Pids of the berth CLI servers (src/cli/oci/server.ts) of this build. */
export function cliServers(): number[] {
  const main = join(testDir, '..', 'dist', 'berth.mjs');
  const pids: number[] = [];
  for (const p of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    let argv: string[];
    try {
      argv = readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0');
    } catch {
      continue;
    }
    const i = argv.indexOf('--berth-serve');
    if (i >= 1 && resolve(argv[i - 1]!) === resolve(main)) pids.push(Number(p));
  }
  return pids;
}

/** SIGTERMs the CLI servers of this build and waits (up to `ms`) until they are gone; returns those still there. */
export async function stopCliServers(ms = 5000): Promise<number[]> {
  for (const pid of cliServers()) process.kill(pid, 'SIGTERM');
  for (const end = Date.now() + ms; cliServers().length && Date.now() < end; ) await new Promise((r) => setTimeout(r, 20));
  return cliServers();
}
