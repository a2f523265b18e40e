// Live updates: what is given replaces what was applied, one sub-object at a
// time (`{memory: {limit}}` keeps memory.swap), lists replace lists.
import type { Resources } from '../spec/types.js';
import { badValue } from './errors.js';

export function mergeResources(applied: Resources, update: Resources): Resources {
  const out: Record<string, unknown> = { ...applied };
  for (const [k, v] of Object.entries(update)) {
    if (v === undefined) continue;
    const old = out[k];
    out[k] = isPlain(v) && isPlain(old) ? { ...old, ...v } : v;
  }
  return out as Resources;
}

/** The parts of `merged` that `update` touches: only their controllers are written again. */
export function pickResources(merged: Resources, update: Resources): Resources {
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(update)) out[k] = (merged as Record<string, unknown>)[k];
  return out as Resources;
}

const isPlain = (v: unknown): v is object => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * memory.checkBeforeUpdate: refuses a new memory limit below what the
 * cgroup uses now. `usage` reads the version's own file, only when needed.
 */
export function refuseBelowUsage(partial: Resources, merged: Resources, usage: () => number, prefix: string, step: string): void {
  const limit = partial.memory?.limit;
  if (!limit || limit <= 0 || !merged.memory?.checkBeforeUpdate) return;
  const used = usage();
  if (limit < used) throw badValue(`${prefix}.memory.limit`, `${limit} is below the current usage (${used} bytes) and checkBeforeUpdate is set`, step);
}
