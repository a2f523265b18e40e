// File access for the drivers. cgroupfs files are small and answer at once,
// so these are synchronous: a few dozen of them cost less than one trip
// through the libuv threadpool each.
import { closeSync, constants, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmdirSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { CgroupError, fsError } from './errors.js';

/** Said after an error; a function when it costs a read to say. */
export type Hint = string | ((code: string | undefined) => string | undefined);
const say = (h: Hint | undefined, e: unknown) => (typeof h === 'function' ? h((e as NodeJS.ErrnoException).code) : h);

/**
 * Writes `value` to an existing file in one write(2), as cgroupfs wants: no
 * O_CREAT (a missing file is a missing feature) and no O_TRUNC.
 */
export function writeValue(path: string, value: string, field: string | undefined, step: string, hint?: Hint): void {
  let fd: number;
  try {
    fd = openSync(path, constants.O_WRONLY);
  } catch (e) {
    throw fsError(e, step, field, say(hint, e));
  }
  try {
    writeSync(fd, value);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    err.syscall = 'write';
    err.path = path;
    throw fsError(err, step, field, say(hint, err));
  } finally {
    closeSync(fd);
  }
}

/** A file's text, or undefined if it does not exist. */
export function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/** A number file ("max" and v1's huge "unlimited" become -1); undefined if absent. */
export function readNumber(path: string): number | undefined {
  const t = readText(path)?.trim();
  if (t === undefined || t === '') return undefined;
  if (t === 'max') return -1;
  const v = Number(t.split(/\s/)[0]);
  return v >= 2 ** 62 ? -1 : v;
}

/** "key value" lines (memory.stat, cpu.stat, memory.events, memory.oom_control). */
export function readKeyed(path: string): Record<string, number> {
  return parseKeyed(readText(path));
}

export function parseKeyed(text: string | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of (text ?? '').split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined) out[k] = v === 'max' ? -1 : Number(v);
  }
  return out;
}

export const exists = existsSync;

/** Makes `dir` and its missing parents; returns the directories made, outermost first. */
export function mkdirs(dir: string, step: string, field?: string): string[] {
  const made: string[] = [];
  let d = dir;
  const missing: string[] = [];
  while (!existsSync(d)) {
    missing.unshift(d);
    const up = join(d, '..');
    if (up === d) break;
    d = up;
  }
  for (const m of missing) {
    try {
      mkdirSync(m);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') continue;
      throw fsError(e, step, field);
    }
    made.push(m);
  }
  return made;
}

/** Subdirectories, deepest first, then `dir` itself. */
export function treeBottomUp(dir: string): string[] {
  const out: string[] = [];
  let entries: string[];
  try {
    entries = readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  for (const name of entries) out.push(...treeBottomUp(join(dir, name)));
  out.push(dir);
  return out;
}

/** rmdir; true if it is gone (or was never there), false while the kernel says busy. */
export function removeDir(dir: string, step: string): boolean {
  try {
    rmdirSync(dir);
    return true;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return true;
    if (code === 'EBUSY' || code === 'ENOTEMPTY' || code === 'EAGAIN') return false;
    throw fsError(e, step);
  }
}

/** Removes `dir` and every cgroup below it, deepest first; a cgroup is busy while its last tasks finish exiting. */
export async function removeTree(dir: string, step: string): Promise<void> {
  for (const d of treeBottomUp(dir)) {
    for (let wait = 1, waited = 0; !removeDir(d, step); waited += wait, wait = Math.min(wait * 2, 50)) {
      if (waited > 5000) throw new CgroupError(`EBUSY: cannot remove cgroup '${d}'`, { code: 'EBUSY', step, path: d, syscall: 'rmdir' });
      await sleep(wait);
    }
  }
}

/** The pids in cgroup.procs of `dir` and every cgroup below it. */
export function procsBelow(dir: string): number[] {
  const out: number[] = [];
  for (const d of treeBottomUp(dir))
    for (const l of (readText(join(d, 'cgroup.procs')) ?? '').split('\n')) if (l) out.push(Number(l));
  return out;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
