// v1 cpu: shares, CFS quota/period/burst, realtime runtime/period, idle;
// throttling figures. Usage figures come from cpuacct (cpuacct.ts).
import { v1Limit } from '../convert.js';
import { setFields, type Controller } from '../controller.js';
import { readKeyed } from '../fs.js';

export const cpu: Controller = {
  name: 'cpu',
  fieldsSet: (r) => setFields('cpu', r.cpu, ['shares', 'quota', 'period', 'burst', 'realtimeRuntime', 'realtimePeriod', 'idle']),
  set(f, r) {
    const c = r.cpu;
    if (!c) return;
    if (c.shares) f.write('cpu.shares', c.shares, 'cpu.shares');
    // A period shorter than the current one can be refused until the quota
    // shrinks with it: then write the quota first and the period again (as runc).
    let periodLater = false;
    if (c.period) {
      try {
        f.write('cpu.cfs_period_us', c.period, 'cpu.period');
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EINVAL' || !c.quota) throw e;
        periodLater = true;
      }
    }
    if (c.quota) f.write('cpu.cfs_quota_us', v1Limit(c.quota), 'cpu.quota');
    if (periodLater) f.write('cpu.cfs_period_us', c.period!, 'cpu.period');
    if (c.burst !== undefined) f.writeFirst(['cpu.cfs_burst_us'], c.burst, 'cpu.burst', 'this kernel has no CFS burst (cpu.cfs_burst_us)');
    const rt = 'the kernel has no realtime group scheduling (CONFIG_RT_GROUP_SCHED)';
    if (c.realtimePeriod) f.writeFirst(['cpu.rt_period_us'], c.realtimePeriod, 'cpu.realtimePeriod', rt);
    if (c.realtimeRuntime) f.writeFirst(['cpu.rt_runtime_us'], c.realtimeRuntime, 'cpu.realtimeRuntime', rt);
    if (c.idle !== undefined) f.writeFirst(['cpu.idle'], c.idle, 'cpu.idle', 'this kernel has no cpu.idle');
  },
  stats(f, s) {
    const st = readKeyed(f.path('cpu.stat'));
    s.cpu.throttling = { periods: st.nr_periods ?? 0, throttledPeriods: st.nr_throttled ?? 0, throttledTime: st.throttled_time ?? 0 };
  },
};
