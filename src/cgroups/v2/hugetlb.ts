// v2 hugetlb: hugetlb.<size>.max (and .rsvd.max where the kernel has it).
import { readdirSync } from 'node:fs';
import type { Controller } from '../controller.js';
import { readKeyed } from '../fs.js';

export const hugetlb: Controller = {
  name: 'hugetlb',
  fieldsSet: (r) => (r.hugepageLimits?.length ? ['hugepageLimits'] : []),
  set(f, r) {
    r.hugepageLimits?.forEach((h, i) => {
      f.writeFirst([`hugetlb.${h.pageSize}.max`], h.limit, `hugepageLimits[${i}].limit`, `this host has no ${h.pageSize} huge pages`);
      if (f.has(`hugetlb.${h.pageSize}.rsvd.max`)) f.write(`hugetlb.${h.pageSize}.rsvd.max`, h.limit, `hugepageLimits[${i}].limit`);
    });
  },
  stats(f, s) {
    for (const name of readdirSync(f.dir)) {
      const m = /^hugetlb\.(\w+)\.current$/.exec(name);
      if (!m) continue;
      const size = m[1]!;
      // v2 keeps no peak: max stays unset.
      s.hugetlb[size] = { usage: f.number(name) ?? 0, failcnt: readKeyed(f.path(`hugetlb.${size}.events`)).max ?? 0 };
    }
  },
};
