// Metrics: berth's typed object, and the JSON that `runc events --stats`
// prints (runc's types/events.go), which tools such as containerd decode.

/** Usage counters of one memory kind; -1 in `limit` is unlimited. */
export interface MemoryEntry {
  usage: number;
  maxUsage?: number;
  limit: number;
  failcnt: number;
}

/** One value of an I/O counter of a block device ("Read", "Write", "Sync", "Async", "Discard", "Total"). */
export interface BlkioEntry {
  major: number;
  minor: number;
  op: string;
  value: number;
}

export interface Stats {
  /** Nanoseconds. v2 has no per-cpu figures. */
  cpu: {
    usage: { total: number; user: number; kernel: number; percpu?: number[]; percpuUser?: number[]; percpuKernel?: number[] };
    throttling: { periods: number; throttledPeriods: number; throttledTime: number };
  };
  memory: {
    usage: MemoryEntry;
    /** Swap alone (v1's memsw less memory). */
    swap?: MemoryEntry;
    /** v1 only. */
    kernel?: MemoryEntry;
    kernelTCP?: MemoryEntry;
    /** Page cache and anonymous memory, bytes. */
    cache: number;
    rss: number;
    pageFaults: number;
    majorPageFaults: number;
    /** v1 only. */
    pageIn?: number;
    pageOut?: number;
    /** memory.stat as the kernel wrote it. */
    raw: Record<string, number>;
  };
  pids: { current: number; /** 0 is unlimited. */ limit: number };
  /** Per device; the v1-only kinds (queued, wait time, ...) are left out on v2. */
  blkio: {
    ioServiceBytes: BlkioEntry[];
    ioServiced: BlkioEntry[];
    ioQueued?: BlkioEntry[];
    ioServiceTime?: BlkioEntry[];
    ioWaitTime?: BlkioEntry[];
    ioMerged?: BlkioEntry[];
    ioTime?: BlkioEntry[];
    sectors?: BlkioEntry[];
  };
  /** By page size ("2MB"). */
  /** `max` is the peak usage (v1 only). */
  hugetlb: Record<string, { usage: number; max?: number; failcnt: number }>;
  /** OOM kills in the cgroup so far. */
  oomKills: number;
}

export function emptyStats(): Stats {
  const entry = (): MemoryEntry => ({ usage: 0, limit: -1, failcnt: 0 });
  return {
    cpu: { usage: { total: 0, user: 0, kernel: 0 }, throttling: { periods: 0, throttledPeriods: 0, throttledTime: 0 } },
    memory: { usage: entry(), cache: 0, rss: 0, pageFaults: 0, majorPageFaults: 0, raw: {} },
    pids: { current: 0, limit: 0 },
    blkio: { ioServiceBytes: [], ioServiced: [] },
    hugetlb: {},
    oomKills: 0,
  };
}

/** "8:0 Read 4096" lines (v1 blkio files) → entries; the "Total" line is skipped. */
export function parseBlkio(text: string | undefined): BlkioEntry[] {
  const out: BlkioEntry[] = [];
  for (const line of (text ?? '').split('\n')) {
    const m = /^(\d+):(\d+) (\S+) (\d+)$/.exec(line.trim());
    if (m) out.push({ major: Number(m[1]), minor: Number(m[2]), op: m[3]!, value: Number(m[4]) });
    else {
      const n = /^(\d+):(\d+) (\d+)$/.exec(line.trim()); // io_time, sectors: no op
      if (n) out.push({ major: Number(n[1]), minor: Number(n[2]), op: '', value: Number(n[3]) });
    }
  }
  return out;
}

/** v2 io.stat ("8:0 rbytes=1 wbytes=2 rios=3 wios=4 ...") → bytes and operations, as runc reports them. */
export function parseIoStat(text: string | undefined): Pick<Stats['blkio'], 'ioServiceBytes' | 'ioServiced'> {
  const bytes: BlkioEntry[] = [];
  const ops: BlkioEntry[] = [];
  for (const line of (text ?? '').split('\n')) {
    const [dev, ...kv] = line.trim().split(/\s+/);
    const m = /^(\d+):(\d+)$/.exec(dev ?? '');
    if (!m) continue;
    const major = Number(m[1]);
    const minor = Number(m[2]);
    const f = Object.fromEntries(kv.map((x) => x.split('=')).map(([k, v]) => [k, Number(v)]));
    for (const [key, list, op] of [['rbytes', bytes, 'Read'], ['wbytes', bytes, 'Write'], ['rios', ops, 'Read'], ['wios', ops, 'Write']] as const)
      if (f[key] !== undefined) list.push({ major, minor, op, value: f[key]! });
  }
  return { ioServiceBytes: bytes, ioServiced: ops };
}

// The JSON of `runc events --stats`.
type RuncEntry = { limit: number; usage?: number; max?: number; failcnt: number };
const runcEntry = (e?: MemoryEntry): RuncEntry =>
  e ? { limit: e.limit < 0 ? 2 ** 63 - 1 : e.limit, usage: e.usage, max: e.maxUsage, failcnt: e.failcnt } : { limit: 0, failcnt: 0 };
const runcBlkio = (l?: BlkioEntry[]) => l?.map((e) => ({ major: e.major, minor: e.minor, op: e.op || undefined, value: e.value }));

/** `{"type":"stats","id":...,"data":...}` data, with runc's field names and units (swap counts memory too, as runc reports it). */
export function runcStats(s: Stats) {
  const swap = s.memory.swap;
  const u = s.memory.usage;
  return {
    cpu: {
      usage: {
        total: s.cpu.usage.total,
        percpu: s.cpu.usage.percpu,
        percpu_kernel: s.cpu.usage.percpuKernel,
        percpu_user: s.cpu.usage.percpuUser,
        kernel: s.cpu.usage.kernel,
        user: s.cpu.usage.user,
      },
      throttling: s.cpu.throttling,
    },
    memory: {
      cache: s.memory.cache,
      usage: runcEntry(u),
      swap: runcEntry(
        swap && {
          usage: swap.usage + u.usage,
          maxUsage: swap.maxUsage,
          limit: swap.limit < 0 || u.limit < 0 ? -1 : swap.limit + u.limit,
          failcnt: swap.failcnt,
        },
      ),
      kernel: runcEntry(s.memory.kernel),
      kernelTCP: runcEntry(s.memory.kernelTCP),
      raw: s.memory.raw,
    },
    pids: { current: s.pids.current, limit: s.pids.limit },
    blkio: {
      ioServiceBytesRecursive: runcBlkio(s.blkio.ioServiceBytes),
      ioServicedRecursive: runcBlkio(s.blkio.ioServiced),
      ioQueueRecursive: runcBlkio(s.blkio.ioQueued),
      ioServiceTimeRecursive: runcBlkio(s.blkio.ioServiceTime),
      ioWaitTimeRecursive: runcBlkio(s.blkio.ioWaitTime),
      ioMergedRecursive: runcBlkio(s.blkio.ioMerged),
      ioTimeRecursive: runcBlkio(s.blkio.ioTime),
      sectorsRecursive: runcBlkio(s.blkio.sectors),
    },
    hugetlb: s.hugetlb,
  };
}
