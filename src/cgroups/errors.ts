// Errors of the cgroup drivers: a BerthError that also names the spec field
// whose value the kernel refused (`linux.resources.memory.limit: EBUSY: ...`).
import { BerthError, describeErrno } from '../runtime/errors.js';

export class CgroupError extends BerthError {
  /** The spec field the failure is about, when there is one. */
  field?: string;

  constructor(message: string, fields: ConstructorParameters<typeof BerthError>[1] & { field?: string }) {
    super(message, fields);
    this.name = 'CgroupError';
    this.field = fields.field;
  }
}

/** Wraps an fs error: `field: CODE: text, syscall 'path': hint`. */
export function fsError(err: unknown, step: string, field?: string, hint?: string): CgroupError {
  const e = err as NodeJS.ErrnoException;
  const code = e?.code ?? 'EIO';
  const errno = typeof e?.errno === 'number' ? Math.abs(e.errno) : 0;
  const text = errno ? describeErrno(errno)[1] : String(e?.message ?? e);
  const where = e?.path ? ` '${e.path}'` : '';
  const msg = `${field ? `${field}: ` : ''}${code}: ${text}, ${e?.syscall ?? 'access'}${where}${hint ? `: ${hint}` : ''}`;
  return new CgroupError(msg, { code, errno: e?.errno, syscall: e?.syscall, path: e?.path, step, field, hint });
}

/** A value berth refuses before the kernel sees it, or a feature the host lacks. */
export function badValue(field: string, problem: string, step = 'apply cgroup resources'): CgroupError {
  return new CgroupError(`${field}: ${problem}`, { code: 'EINVAL', step, field });
}

/** create() of a cgroup that has processes already. */
export function busyError(path: string, pids: number[]): CgroupError {
  return new CgroupError(`linux.cgroupsPath: cgroup ${path} already has processes (${pids.slice(0, 5).join(', ')})`, {
    code: 'EBUSY',
    step: 'create cgroup',
    field: 'linux.cgroupsPath',
  });
}

/** freeze() that did not complete; the caller has thawed again. */
export function freezeTimeout(path: string, timeoutMs: number, file: string): CgroupError {
  return new CgroupError(`ETIMEDOUT: the cgroup ${path} did not freeze within ${timeoutMs} ms; it was thawed again`, { code: 'ETIMEDOUT', step: 'pause', path: file });
}

/** killAll() that left processes. */
export function killTimeout(path: string, pids: number[], timeoutMs: number): CgroupError {
  return new CgroupError(`ETIMEDOUT: processes ${pids.join(', ')} in cgroup ${path} survived SIGKILL for ${timeoutMs} ms`, { code: 'ETIMEDOUT', step: 'kill' });
}

/** freeze() or killAll() of the cgroup the calling process is in: it would freeze or kill itself. */
export function selfError(path: string, step: string): CgroupError {
  return new CgroupError(`EDEADLK: cgroup ${path} holds this process (pid ${process.pid}); berth will not freeze or kill its caller`, {
    code: 'EDEADLK',
    step,
  });
}
