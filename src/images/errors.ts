// Import failures are BerthErrors with step "import image" (or the step
// given), shaped like fs errors: code, path, and a message naming the cause.
import { BerthError } from '../runtime/errors.js';

export function imageError(code: string, message: string, opts: { path?: string; step?: string; hint?: string } = {}): BerthError {
  const step = opts.step ?? 'import image';
  const where = opts.path ? ` '${opts.path}'` : '';
  return new BerthError(`${code}: ${message}${where} (${step})`, { code, path: opts.path, step, hint: opts.hint });
}

/** The import's own limits, as a clear error naming the option. */
export function limitError(what: string, limit: string, value: number): BerthError {
  return imageError('EFBIG', `the image has more than ${value} ${what} (limit ${limit})`, {
    hint: `raise the ${limit} option of images.import if the image is trusted`,
  });
}
