// v1 memory: limit_in_bytes, memsw (memory+swap, the OCI meaning of swap),
// soft limit, kmem.tcp, swappiness, the OOM killer switch; usage figures.
import type { Resources } from '../../spec/types.js';
import { v1Limit } from '../convert.js';
import type { Controller, Files } from '../controller.js';
import { setFields } from '../controller.js';
import { badValue } from '../errors.js';
import { readKeyed } from '../fs.js';
import type { MemoryEntry } from '../stats.js';

const LIMIT = 'memory.limit_in_bytes';
const SWAP = 'memory.memsw.limit_in_bytes';

function setLimit(f: Files, limit: number) {
  if (!limit) return;
  f.write(LIMIT, v1Limit(limit), 'memory.limit', (code) =>
    code === 'EBUSY' ? `the limit is below what the container uses now (${f.number('memory.usage_in_bytes')} bytes)` : undefined,
  );
}

function setSwap(f: Files, swap: number) {
  if (!swap) return;
  if (!f.has(SWAP)) {
    if (swap === -1) return;
    throw badValue(f.field('memory.swap'), 'swap accounting is off on this host (no memory.memsw.limit_in_bytes)', f.step);
  }
  f.write(SWAP, v1Limit(swap), 'memory.swap', (code) =>
    code === 'EINVAL' ? 'memory.swap counts memory plus swap: it must be at least memory.limit' : undefined,
  );
}

export const memory: Controller = {
  name: 'memory',
  // kernel is left out: kernels since 5.16 ignore kernel memory limits, and runc does too.
  fieldsSet: (r: Resources) => setFields('memory', r.memory, ['limit', 'reservation', 'swap', 'kernelTCP', 'swappiness', 'disableOOMKiller']),
  set(f, r) {
    const m = r.memory;
    if (!m) return;
    const limit = m.limit ?? 0;
    let swap = m.swap ?? 0;
    // Unlimited memory with swap unset: swap unlimited too (as runc).
    if (limit === -1 && swap === 0 && f.has(SWAP)) swap = -1;
    // The kernel wants memsw >= limit at every moment: raise memsw first when it grows past the current limit.
    const cur = f.number(LIMIT) ?? -1;
    if (limit && swap && (swap === -1 || (cur >= 0 && cur < swap))) {
      setSwap(f, swap);
      setLimit(f, limit);
    } else {
      setLimit(f, limit);
      setSwap(f, swap);
    }
    if (m.reservation) f.write('memory.soft_limit_in_bytes', v1Limit(m.reservation), 'memory.reservation');
    if (m.kernelTCP) f.write('memory.kmem.tcp.limit_in_bytes', v1Limit(m.kernelTCP), 'memory.kernelTCP');
    if (m.swappiness !== undefined && m.swappiness <= 100) f.write('memory.swappiness', m.swappiness, 'memory.swappiness');
    if (m.disableOOMKiller !== undefined) f.write('memory.oom_control', m.disableOOMKiller ? 1 : 0, 'memory.disableOOMKiller');
  },
  stats(f, s) {
    const entry = (prefix: string): MemoryEntry | undefined => {
      const usage = f.number(`${prefix}.usage_in_bytes`);
      if (usage === undefined) return undefined;
      return {
        usage,
        maxUsage: f.number(`${prefix}.max_usage_in_bytes`),
        limit: f.number(`${prefix}.limit_in_bytes`) ?? -1,
        failcnt: f.number(`${prefix}.failcnt`) ?? 0,
      };
    };
    const raw = readKeyed(f.path('memory.stat'));
    const mem = s.memory;
    mem.raw = raw;
    mem.usage = entry('memory') ?? mem.usage;
    const memsw = entry('memory.memsw');
    if (memsw)
      mem.swap = {
        usage: Math.max(0, memsw.usage - mem.usage.usage),
        maxUsage: memsw.maxUsage,
        limit: memsw.limit < 0 || mem.usage.limit < 0 ? -1 : memsw.limit - mem.usage.limit,
        failcnt: memsw.failcnt,
      };
    mem.kernel = entry('memory.kmem');
    mem.kernelTCP = entry('memory.kmem.tcp');
    mem.cache = raw.total_cache ?? raw.cache ?? 0;
    mem.rss = raw.total_rss ?? raw.rss ?? 0;
    mem.pageFaults = raw.total_pgfault ?? raw.pgfault ?? 0;
    mem.majorPageFaults = raw.total_pgmajfault ?? raw.pgmajfault ?? 0;
    mem.pageIn = raw.total_pgpgin ?? raw.pgpgin;
    mem.pageOut = raw.total_pgpgout ?? raw.pgpgout;
    s.oomKills = readKeyed(f.path('memory.oom_control')).oom_kill ?? 0;
  },
};
