// Helpers for bench/start.ts: tools, the bundle, cgroup cleanup, statistics,
// peak-memory probes.
import { execa } from 'execa';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmdirSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultSpec, type Spec } from '../src/index.js';

export const log = (s: string) => process.stderr.write(`# ${s}\n`);

const onPath = (cmd: string) =>
  cmd.startsWith('/') ? existsSync(cmd) : (process.env.PATH ?? '').split(':').some((d) => d && existsSync(join(d, cmd)));

/** Installs the Debian package of every command (cmd -> package) not on PATH; `apt-get update` only if needed. */
export async function ensureTools(tools: Record<string, string>): Promise<void> {
  const pkgs = [...new Set(Object.entries(tools).filter(([c]) => !onPath(c)).map(([, p]) => p))];
  if (!pkgs.length) return;
  log(`installing missing packages: ${pkgs.join(' ')}`);
  const apt = (...a: string[]) =>
    execa('apt-get', ['-y', '-q', '--no-install-recommends', ...a], { env: { DEBIAN_FRONTEND: 'noninteractive' }, stdout: 'ignore', stderr: 'inherit' });
  try {
    await apt('install', ...pkgs);
  } catch {
    await apt('update');
    await apt('install', ...pkgs);
  }
}

/** First line of `cmd --version`. */
export const version = async (cmd: string) =>
  (await execa(cmd, ['--version'], { reject: false })).stdout.split('\n')[0] ?? '?';

/**
 * True on hybrid cgroup hosts whose cgroup2 mount at /sys/fs/cgroup/unified
 * has controllers: crun <= 1.8 then refuses to run anything.
 */
export function hybridUnifiedHasControllers(): boolean {
  try {
    const TMPFS = 0x01021994, CGROUP2 = 0x63677270;
    return (
      statfsSync('/sys/fs/cgroup').type === TMPFS &&
      statfsSync('/sys/fs/cgroup/unified').type === CGROUP2 &&
      readFileSync('/sys/fs/cgroup/unified/cgroup.controllers', 'utf8').trim() !== ''
    );
  } catch {
    return false;
  }
}

/** argv prefix that runs a command in a private mount namespace without /sys/fs/cgroup/unified. */
export const HIDE_UNIFIED = ['unshare', '--mount', '--propagation', 'private', '/bin/sh', '-c', 'umount -l /sys/fs/cgroup/unified 2>/dev/null; exec "$0" "$@"'];

export interface Bundle {
  dir: string;
  rootfs: string;
  spec: Spec;
  cgroupsPath: string;
  cleanup(): void;
}

/** A temp bundle: rootfs = copy of `from`, config.json = defaultSpec() running `args`. */
export async function makeBundle(from: string, args: string[]): Promise<Bundle> {
  const dir = mkdtempSync(join(tmpdir(), 'berth-bench-'));
  const rootfs = join(dir, 'rootfs');
  await execa('cp', ['-a', from, rootfs]);
  const cgroupsPath = `/berth-bench-${process.pid}`;
  const spec = defaultSpec({ args });
  spec.process!.terminal = false;
  spec.linux!.cgroupsPath = cgroupsPath;
  writeFileSync(join(dir, 'config.json'), JSON.stringify(spec, null, 2));
  let done = false;
  const cleanup = () => {
    if (done) return;
    done = true;
    removeCgroup(cgroupsPath);
    rmSync(dir, { recursive: true, force: true });
  };
  return { dir, rootfs, spec, cgroupsPath, cleanup };
}

/** rmdir PATH in every hierarchy under /sys/fs/cgroup (and nothing else). */
function removeCgroup(path: string) {
  for (const h of readdirSync('/sys/fs/cgroup')) {
    const d = join('/sys/fs/cgroup', h, path);
    try {
      rmdirSync(d);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT' && (e as NodeJS.ErrnoException).code !== 'ENOTDIR') log(`could not remove ${d}: ${e}`);
    }
  }
}

/** Linear-interpolated quantile of sorted xs. */
export function quantile(sorted: number[], q: number): number {
  if (!sorted.length) return NaN;
  const i = (sorted.length - 1) * q;
  const lo = Math.floor(i), hi = Math.ceil(i);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (i - lo);
}

export const median = (xs: number[]) => quantile([...xs].sort((a, b) => a - b), 0.5);

/** A /proc/PID/status field in kB (VmHWM, VmRSS, ...); NaN if unreadable. */
export function procKb(pid: number, field: string): number {
  try {
    const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm'));
    return m ? Number(m[1]) : NaN;
  } catch {
    return NaN;
  }
}

/** GNU time's %M (KiB: peak RSS of the command and the children it reaped) for `argv`; `prefix` wraps time. */
export async function timeRss(argv: string[], prefix: string[] = []): Promise<number> {
  const out = join(tmpdir(), `berth-bench-rss-${process.pid}`);
  const all = [...prefix, '/usr/bin/time', '-f', '%M', '-o', out, ...argv];
  try {
    await execa(all[0]!, all.slice(1), { stdio: 'ignore' });
    return Number(readFileSync(out, 'utf8').trim());
  } finally {
    rmSync(out, { force: true });
  }
}

/** Pads a table: first column left-aligned, the rest right-aligned. */
export function table(rows: string[][]): string {
  const w = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => (i ? c.padStart(w[i]!) : c.padEnd(w[i]!))).join('  ')).join('\n');
}
