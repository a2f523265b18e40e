// A container's event stream, as `runc events` has it: an "oom" event for
// each OOM kill and, with an interval, a "stats" event every so often.
import type { CgroupDriver } from './driver.js';
import { EventQueue } from './queue.js';
import type { Stats } from './stats.js';

export type ContainerEvent = { type: 'oom'; id: string; oomKills: number } | { type: 'stats'; id: string; data: Stats };

export interface EventsOptions {
  /** Milliseconds between stats events; none when unset. */
  interval?: number;
  signal?: AbortSignal;
}

/** Ends when `signal` aborts, the iterator is returned, or the cgroup goes away. */
export function cgroupEvents(id: string, cgroup: CgroupDriver, o: EventsOptions = {}): EventQueue<ContainerEvent> {
  const stop = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const end = () => q.end();
  const q = new EventQueue<ContainerEvent>(() => {
    stop.abort();
    clearInterval(timer);
    o.signal?.removeEventListener('abort', end);
  });
  if (o.signal?.aborted) {
    q.end();
    return q;
  }
  o.signal?.addEventListener('abort', end);
  const ooms = cgroup.oomEvents(stop.signal);
  void (async () => {
    for await (const e of ooms) q.push({ type: 'oom', id, oomKills: e.oomKills });
    q.end();
  })().catch(end);
  if (o.interval) {
    timer = setInterval(() => cgroup.stats().then((data) => q.push({ type: 'stats', id, data }), end), o.interval);
    timer.unref();
  }
  return q;
}
