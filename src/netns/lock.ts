// File locks and atomic records for state shared by several processes.
// The lock is flock(2) taken without blocking and retried on a timer, so
// Node's thread never sleeps in the kernel while another process holds it.
import { closeSync, mkdirSync, openSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { native } from '../native.js';
import { BerthError } from '../runtime/errors.js';

/** Runs fn holding an exclusive flock on `path` (created if missing). */
export async function withLock<T>(path: string, fn: () => T | Promise<T>, timeoutMs = 30_000): Promise<T> {
  mkdirSync(dirname(path), { recursive: true, mode: 0o711 });
  const fd = openSync(path, 'a', 0o600);
  try {
    const until = Date.now() + timeoutMs;
    for (let wait = 1; !native().flock(fd, true, false); wait = Math.min(wait * 2, 20)) {
      if (Date.now() > until)
        throw new BerthError(`ETIMEDOUT: timed out waiting for the lock '${path}'`, { code: 'ETIMEDOUT', step: 'lock', path });
      await sleep(wait);
    }
    return await fn();
  } finally {
    closeSync(fd); // releases the lock
  }
}

/** Writes a JSON record atomically: a reader sees the old or the new file, never a torn one. */
export function writeJson(file: string, value: unknown): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(value, null, 1) + '\n', { mode: 0o600 });
  renameSync(tmp, file);
}

/** The parsed file, or `fallback` if it does not exist. */
export function readJson<T>(file: string, fallback: T): T {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return fallback;
    throw e;
  }
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new BerthError(`EINVAL: ${file}: not valid JSON`, { code: 'EINVAL', step: 'read state', path: file });
  }
}
