// Errors shaped like Node's fs errors (code, errno, syscall, path) plus
// berth's step and container id.
import { constants } from 'node:os';
import { getSystemErrorMap } from 'node:util';
import type { SetupFailure } from './protocol.js';

export interface BerthErrorFields {
  code: string;
  errno?: number;
  syscall?: string;
  path?: string;
  step: string;
  containerId?: string;
  hint?: string;
}

export class BerthError extends Error {
  code: string;
  errno?: number;
  syscall?: string;
  path?: string;
  step: string;
  containerId?: string;
  hint?: string;

  constructor(message: string, fields: BerthErrorFields) {
    super(message);
    this.name = 'BerthError';
    this.code = fields.code;
    this.errno = fields.errno;
    this.syscall = fields.syscall;
    this.path = fields.path;
    this.step = fields.step;
    this.containerId = fields.containerId;
    this.hint = fields.hint;
  }
}

const errnoNames = new Map(Object.entries(constants.errno).map(([k, v]) => [v, k]));
// libuv's table, which Node uses, lacks a few that exec and mounts return.
const extraText: Record<string, string> = { ENOEXEC: 'exec format error', ENOTBLK: 'block device required', ESTALE: 'stale file handle' };

/** errno number (positive) → [code, description], as Node names them. */
export function describeErrno(errno: number): [string, string] {
  const known = getSystemErrorMap().get(-errno);
  if (known) return known;
  const code = errnoNames.get(errno) ?? `E${errno}`;
  return [code, extraText[code] ?? `unknown error ${errno}`];
}

const hints: Record<string, string> = {
  'exec:ENOENT': 'executable file not found in the container',
  'exec:EACCES': 'permission denied: the file is not executable by the container user',
};

/** Makes a BerthError from the setup process's error record. */
export function fromSetupFailure(f: SetupFailure, containerId: string): BerthError {
  const [code, text] = describeErrno(f.errno);
  const path = f.path || undefined;
  const where = path ? ` '${path}'` : '';
  const detail = f.detail ? ` (${f.detail})` : '';
  const hint = hints[`${f.step}:${code}`];
  const msg = `${code}: ${text}, ${f.syscall}${where} (${f.step})${detail}${hint ? `: ${hint}` : ''}`;
  return new BerthError(msg, { code, errno: -f.errno, syscall: f.syscall, path, step: f.step, containerId, hint });
}

/** Wraps an error thrown by the addon or fs (it has code/syscall/path) with a step. */
export function withStep(err: unknown, step: string, containerId: string): BerthError {
  const e = err as NodeJS.ErrnoException;
  if (e instanceof BerthError) return e;
  const code = e?.code ?? 'EIO';
  const msg = `${String(e?.message ?? e)} (${step})`;
  return new BerthError(msg, { code, errno: e?.errno, syscall: e?.syscall, path: e?.path, step, containerId });
}
