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
