// Shared by the tests: the busybox rootfs (test/make-rootfs.sh) and specs for it.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
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
