// v1 hugetlb: hugetlb.<size>.limit_in_bytes (and the reservation limit where
// the kernel has it), usage per page size.
import { readdirSync } from 'node:fs';
import type { Controller } from '../controller.js';

export const hugetlb: Controller = {
  name: 'hugetlb',
  fieldsSet: (r) => (r.hugepageLimits?.length ? ['hugepageLimits'] : []),
  set(f, r) {
    r.hugepageLimits?.forEach((h, i) => {
      const file = `hugetlb.${h.pageSize}.limit_in_bytes`;
      f.writeFirst([file], h.limit, `hugepageLimits[${i}].limit`, `this host has no ${h.pageSize} huge pages`);
      if (f.has(`hugetlb.${h.pageSize}.rsvd.limit_in_bytes`)) f.write(`hugetlb.${h.pageSize}.rsvd.limit_in_bytes`, h.limit, `hugepageLimits[${i}].limit`);
    });
  },
  stats(f, s) {
    for (const name of readdirSync(f.dir)) {
      const m = /^hugetlb\.(\w+)\.usage_in_bytes$/.exec(name);
      if (!m) continue;
      const size = m[1]!;
      s.hugetlb[size] = {
        usage: f.number(name) ?? 0,
        max: f.number(`hugetlb.${size}.max_usage_in_bytes`) ?? 0,
        failcnt: f.number(`hugetlb.${size}.failcnt`) ?? 0,
      };
    }
  },
};
