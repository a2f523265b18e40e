// Range checks the spec validator leaves to the runtime, the same on both
// versions (the kernel would clamp these silently, or refuse them with a bare
// EINVAL).
import type { Resources } from '../spec/types.js';
import { badValue } from './errors.js';

const between = (v: number | undefined, lo: number, hi: number) => v === undefined || v === 0 || (v >= lo && v <= hi);

export function checkCgroupValues(r: Resources, prefix: string, step: string): void {
  const bad = (field: string, problem: string) => badValue(`${prefix}.${field}`, problem, step);
  const c = r.cpu;
  if (!between(c?.shares, 2, 262144)) throw bad('cpu.shares', 'must be between 2 and 262144 (0 leaves it unset)');
  if (c?.idle !== undefined && c.idle !== 0 && c.idle !== 1) throw bad('cpu.idle', 'must be 0 or 1');
  const b = r.blockIO;
  const w = 'must be between 10 and 1000 (0 leaves it unset)';
  if (!between(b?.weight, 10, 1000)) throw bad('blockIO.weight', w);
  if (!between(b?.leafWeight, 10, 1000)) throw bad('blockIO.leafWeight', w);
  b?.weightDevice?.forEach((d, i) => {
    if (!between(d.weight, 10, 1000)) throw bad(`blockIO.weightDevice[${i}].weight`, w);
    if (!between(d.leafWeight, 10, 1000)) throw bad(`blockIO.weightDevice[${i}].leafWeight`, w);
  });
  const m = r.memory;
  if (m?.swap && m.swap > 0 && m.limit && m.limit > 0 && m.swap < m.limit)
    throw bad('memory.swap', `must be at least memory.limit (${m.limit}): it counts memory plus swap`);
  if (m?.swap && m.swap > 0 && !(m.limit && m.limit > 0)) throw bad('memory.swap', 'a swap limit needs a memory limit');
}
