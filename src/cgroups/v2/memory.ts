// v2 memory: memory.max, memory.low (OCI reservation), memory.swap.max (swap
// alone: OCI's memory+swap less the limit); usage from memory.current,
// memory.peak, memory.stat and memory.events.
import { swapToV2, v2Limit } from '../convert.js';
import { setFields, type Controller } from '../controller.js';
import { badValue } from '../errors.js';
import { readKeyed } from '../fs.js';

export const memory: Controller = {
  name: 'memory',
  // kernel and kernelTCP are deprecated in the runtime spec and have no v2 file: ignored, as runc does.
  fieldsSet: (r) => setFields('memory', r.memory, ['limit', 'reservation', 'swap', 'swappiness', 'disableOOMKiller']),
  set(f, r) {
    const m = r.memory;
    if (!m) return;
    if (m.swappiness !== undefined && m.swappiness <= 100)
      throw badValue(f.field('memory.swappiness'), 'cgroup v2 has no per-cgroup swappiness', f.step);
    if (m.disableOOMKiller) throw badValue(f.field('memory.disableOOMKiller'), 'cgroup v2 cannot disable the OOM killer', f.step);
    const limit = m.limit ?? 0;
    let swap: number;
    try {
      swap = swapToV2(m.swap ?? 0, limit);
    } catch (e) {
      throw badValue(f.field('memory.swap'), (e as Error).message, f.step);
    }
    // memory.swap.max first: a swap limit has no ordering constraint against memory.max on v2.
    if (swap) {
      if (f.has('memory.swap.max')) f.write('memory.swap.max', v2Limit(swap), 'memory.swap');
      else if (swap > 0) throw badValue(f.field('memory.swap'), 'swap accounting is off on this host (no memory.swap.max)', f.step);
    }
    if (limit)
      f.write('memory.max', v2Limit(limit), 'memory.limit', (code) =>
        code === 'EBUSY' ? `the limit is below what the container uses now (${f.number('memory.current')} bytes)` : undefined,
      );
    if (m.reservation) f.write('memory.low', v2Limit(m.reservation), 'memory.reservation');
  },
  stats(f, s) {
    const raw = readKeyed(f.path('memory.stat'));
    const events = readKeyed(f.path('memory.events'));
    const mem = s.memory;
    mem.raw = raw;
    mem.usage = { usage: f.number('memory.current') ?? 0, maxUsage: f.number('memory.peak'), limit: f.number('memory.max') ?? -1, failcnt: events.max ?? 0 };
    const swap = f.number('memory.swap.current');
    if (swap !== undefined)
      mem.swap = { usage: swap, maxUsage: f.number('memory.swap.peak'), limit: f.number('memory.swap.max') ?? -1, failcnt: readKeyed(f.path('memory.swap.events')).fail ?? 0 };
    mem.cache = raw.file ?? 0;
    mem.rss = raw.anon ?? 0;
    mem.pageFaults = raw.pgfault ?? 0;
    mem.majorPageFaults = raw.pgmajfault ?? 0;
    s.oomKills = events.oom_kill ?? 0;
  },
};
