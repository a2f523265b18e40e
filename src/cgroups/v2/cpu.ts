// v2 cpu: cpu.weight (from OCI shares), cpu.max (quota and period),
// cpu.max.burst, cpu.idle; usage and throttling from cpu.stat.
import { cpuMax, sharesToWeight, usecToNsec } from '../convert.js';
import { setFields, type Controller } from '../controller.js';
import { badValue } from '../errors.js';
import { readKeyed } from '../fs.js';

export const cpu: Controller = {
  name: 'cpu',
  fieldsSet: (r) => setFields('cpu', r.cpu, ['shares', 'quota', 'period', 'burst', 'idle']),
  set(f, r) {
    const c = r.cpu;
    if (!c) return;
    if (c.realtimeRuntime || c.realtimePeriod)
      throw badValue(f.field(c.realtimeRuntime ? 'cpu.realtimeRuntime' : 'cpu.realtimePeriod'), 'cgroup v2 has no realtime CPU limits', f.step);
    if (c.shares) f.write('cpu.weight', sharesToWeight(c.shares), 'cpu.shares');
    const max = cpuMax(c.quota, c.period);
    if (max) f.write('cpu.max', max, c.quota ? 'cpu.quota' : 'cpu.period');
    if (c.burst !== undefined) f.writeFirst(['cpu.max.burst'], c.burst, 'cpu.burst', 'this kernel has no cpu.max.burst');
    if (c.idle !== undefined) f.writeFirst(['cpu.idle'], c.idle, 'cpu.idle', 'this kernel has no cpu.idle');
  },
  stats(f, s) {
    const st = readKeyed(f.path('cpu.stat'));
    s.cpu.usage.total = usecToNsec(st.usage_usec ?? 0);
    s.cpu.usage.user = usecToNsec(st.user_usec ?? 0);
    s.cpu.usage.kernel = usecToNsec(st.system_usec ?? 0);
    s.cpu.throttling = { periods: st.nr_periods ?? 0, throttledPeriods: st.nr_throttled ?? 0, throttledTime: usecToNsec(st.throttled_usec ?? 0) };
  },
};
