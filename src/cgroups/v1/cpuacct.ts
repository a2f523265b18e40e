// v1 cpuacct: CPU time used, in total, per cpu, user and system.
import { ticksToNsec } from '../convert.js';
import type { Controller } from '../controller.js';
import { readKeyed } from '../fs.js';

const numbers = (t: string | undefined) => (t ?? '').trim().split(/\s+/).filter(Boolean).map(Number);

export const cpuacct: Controller = {
  name: 'cpuacct',
  fieldsSet: () => [],
  set() {},
  stats(f, s) {
    const u = s.cpu.usage;
    u.total = f.number('cpuacct.usage') ?? 0;
    u.percpu = numbers(f.read('cpuacct.usage_percpu'));
    const st = readKeyed(f.path('cpuacct.stat'));
    u.user = ticksToNsec(st.user ?? 0);
    u.kernel = ticksToNsec(st.system ?? 0);
    // cpuacct.usage_all: "cpu user system" per line, nanoseconds.
    const rows = (f.read('cpuacct.usage_all') ?? '').split('\n').slice(1).map(numbers).filter((r) => r.length === 3);
    if (rows.length) {
      u.percpuUser = rows.map((r) => r[1]!);
      u.percpuKernel = rows.map((r) => r[2]!);
    }
  },
};
