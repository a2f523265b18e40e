// pids (the same files on v1 and v2): pids.max, pids.current.
import { setFields, type Controller } from './controller.js';

export const pids: Controller = {
  name: 'pids',
  fieldsSet: (r) => setFields('pids', r.pids),
  set(f, r) {
    // As runc: 0 leaves the limit alone, a negative value is unlimited.
    const limit = r.pids?.limit;
    if (limit) f.write('pids.max', limit > 0 ? limit : 'max', 'pids.limit');
  },
  stats(f, s) {
    const max = f.number('pids.max');
    s.pids = { current: f.number('pids.current') ?? 0, limit: max === undefined || max < 0 ? 0 : max };
  },
};
