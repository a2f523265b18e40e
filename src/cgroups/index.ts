// The one place that picks a cgroup driver: statfs of the cgroup root says
// cgroup2fs (v2, unified) or anything else (v1: a tmpfs of hierarchies,
// possibly with a cgroup2 "unified" mount beside them).
import { statfsSync } from 'node:fs';
import { posix } from 'node:path';
import type { CgroupConfig, CgroupDriver } from './driver.js';
import { CgroupError } from './errors.js';
import { V1Driver } from './v1/driver.js';
import { V2Driver } from './v2/driver.js';

export type { CgroupConfig, CgroupDriver, FreezerState, OomEvent } from './driver.js';
export { CgroupError } from './errors.js';
export { runcStats, type Stats } from './stats.js';

export const CGROUP_ROOT = '/sys/fs/cgroup';
const CGROUP2_SUPER_MAGIC = 0x63677270;

const versions = new Map<string, 1 | 2>();

/** 2 when `root` is a cgroup2 mount, else 1. Asked of the kernel once per root. */
export function cgroupVersion(root = CGROUP_ROOT): 1 | 2 {
  let v = versions.get(root);
  if (!v) {
    v = statfsSync(root).type === CGROUP2_SUPER_MAGIC ? 2 : 1;
    versions.set(root, v);
  }
  return v;
}

export interface OpenOptions extends CgroupConfig {
  /** The cgroup root (default /sys/fs/cgroup): unit tests point it at a temporary tree. */
  root?: string;
  /** Skips the probe (for such trees). */
  version?: 1 | 2;
}

/** The driver for one container's cgroup. Nothing is touched until create(). */
export function openCgroup(o: OpenOptions): CgroupDriver {
  const root = o.root ?? CGROUP_ROOT;
  return (o.version ?? cgroupVersion(root)) === 2 ? new V2Driver(root, o) : new V1Driver(root, o);
}

/**
 * Where a container's cgroup goes, relative to each hierarchy's root:
 * linux.cgroupsPath when it is absolute ("/libpod_parent/libpod-<id>"),
 * below "berth/" when it is relative (runc would put it below its own
 * cgroup; berth keeps out of the caller's), "berth/<id>" when unset.
 */
export function cgroupPlacement(cgroupsPath: string | undefined, id: string): string {
  if (!cgroupsPath) return `berth/${id}`;
  const field = 'linux.cgroupsPath';
  const bad = (problem: string) =>
    new CgroupError(`${field}: ${problem}`, { code: 'EINVAL', step: 'create cgroup', field });
  if (/^[^/]*:[^/]*:[^/]*$/.test(cgroupsPath)) throw bad(`"${cgroupsPath}" is a systemd slice:prefix:name; berth has no systemd cgroup driver, give a path`);
  if (cgroupsPath.split('/').includes('..')) throw bad('must not contain ".."');
  const p = posix.normalize(cgroupsPath).replace(/^\/+|\/+$/g, '');
  if (!p || p === '.') throw bad('must name a cgroup below the root, not the root itself');
  return cgroupsPath.startsWith('/') ? p : `berth/${p}`;
}
