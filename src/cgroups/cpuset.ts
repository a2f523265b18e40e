// cpuset (v1 and v2): cpus and mems. A new v1 cpuset cgroup starts with both empty,
// and takes no process until they are set, so each level gets its parent's
// values first where it has none (fill), then the leaf gets the spec's.
import { dirname, join } from 'node:path';
import { setFields, type Controller, type Files } from './controller.js';
import { readText, writeValue } from './fs.js';

const online = () => readText('/sys/devices/system/cpu/online')?.trim() ?? '?';
const hint = (what: string) => (code: string | undefined) =>
  code === 'EINVAL' || code === 'ERANGE' ? `not a subset of the ${what} this cgroup's parent has (cpus online: ${online()})` : undefined;

/** Copies cpuset.cpus and cpuset.mems from the parent into each of `dirs` that has them empty, outermost first (v1). */
export function fillCpusets(dirs: string[], step: string): void {
  for (const d of dirs) {
    for (const file of ['cpuset.cpus', 'cpuset.mems']) {
      if ((readText(join(d, file)) ?? 'x').trim() !== '') continue;
      writeValue(join(d, file), (readText(join(dirname(d), file)) ?? '').trim(), undefined, step);
    }
  }
}

export const cpuset: Controller = {
  name: 'cpuset',
  fieldsSet: (r) => setFields('cpu', r.cpu, ['cpus', 'mems']),
  set(f: Files, r) {
    const c = r.cpu;
    if (c?.cpus) f.write('cpuset.cpus', c.cpus, 'cpu.cpus', hint('cpus'));
    if (c?.mems) f.write('cpuset.mems', c.mems, 'cpu.mems', hint('memory nodes'));
  },
  stats() {},
};

