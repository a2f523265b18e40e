// v1 devices as the kernel holds them: a default (allow or deny) and
// exceptions, each "type major:minor" with its access bits. Read from
// devices.list, computed for a policy by playing the writes the way the
// kernel does, and the fewest writes from one state to another, so that a
// live update never passes through "deny all" (and needs no write of "a",
// which the kernel refuses once the cgroup has children). Pure functions.
import { v1DeviceWrites, type DevicePolicy } from '../devices.js';

export interface V1DeviceState {
  /**
   * The default. devices.list shows an allow-all cgroup as "a *:* rwm" and
   * not its (deny) exceptions, so a state read from it has none.
   */
  defaultAllow: boolean;
  /** "c 1:3" (or "c *:*") → its access bits, in "rwm" order. */
  exceptions: Map<string, string>;
}

export interface V1DeviceWrite {
  file: 'devices.allow' | 'devices.deny';
  value: string;
}

const BITS = 'rwm';
const bits = (s: string) => [...BITS].filter((c) => s.includes(c)).join('');
const minus = (a: string, b: string) => [...a].filter((c) => !b.includes(c)).join('');

/** devices.list's lines ("c 1:3 rwm", or "a *:* rwm" for allow-all). */
export function parseDevicesList(text: string): V1DeviceState {
  const exceptions = new Map<string, string>();
  for (const line of text.split('\n')) {
    const [type, nums, access] = line.trim().split(/\s+/);
    if (!type || !nums) continue;
    if (type === 'a') return { defaultAllow: true, exceptions: new Map() };
    const key = `${type} ${nums}`;
    exceptions.set(key, bits((exceptions.get(key) ?? '') + (access ?? '')));
  }
  return { defaultAllow: false, exceptions };
}

/**
 * The state after `writes`, as the kernel computes it: "a" resets to allow
 * or deny all; a rule written against the default adds (merges) an
 * exception; one written with the default takes bits from the exception of
 * exactly that type and numbers, if there is one.
 */
export function playWrites(from: V1DeviceState, writes: readonly V1DeviceWrite[]): V1DeviceState {
  const s: V1DeviceState = { defaultAllow: from.defaultAllow, exceptions: new Map(from.exceptions) };
  for (const w of writes) {
    const allow = w.file === 'devices.allow';
    const [type, nums, access = ''] = w.value.trim().split(/\s+/);
    if (type === 'a') {
      s.defaultAllow = allow;
      s.exceptions.clear();
      continue;
    }
    const key = `${type} ${nums}`;
    const have = s.exceptions.get(key) ?? '';
    const now = allow !== s.defaultAllow ? bits(have + access) : minus(have, access);
    if (now) s.exceptions.set(key, now);
    else s.exceptions.delete(key);
  }
  return s;
}

/** The state the policy's writes (v1DeviceWrites, from "a") leave. */
export function policyState(p: DevicePolicy): V1DeviceState {
  return playWrites({ defaultAllow: true, exceptions: new Map() }, v1DeviceWrites(p));
}

export function sameState(a: V1DeviceState, b: V1DeviceState): boolean {
  if (a.defaultAllow !== b.defaultAllow || a.exceptions.size !== b.exceptions.size) return false;
  for (const [k, v] of a.exceptions) if (b.exceptions.get(k) !== v) return false;
  return true;
}

/**
 * The writes that take `current` (undefined: unknown) to `target`. With the
 * same deny default (a container's, always): first the bits that go, then
 * those that come, each on its own exception: what one exception allows
 * before and after is never denied in between, and nothing denied before
 * and after is ever allowed (runc's order).
 * Otherwise (another default, or an allow-all cgroup whose exceptions
 * devices.list does not show), "a" and the target's exceptions, as at create.
 */
export function deviceTransition(current: V1DeviceState | undefined, target: V1DeviceState): V1DeviceWrite[] {
  const add: V1DeviceWrite['file'] = target.defaultAllow ? 'devices.deny' : 'devices.allow';
  const take: V1DeviceWrite['file'] = target.defaultAllow ? 'devices.allow' : 'devices.deny';
  const out: V1DeviceWrite[] = [];
  let from = current?.exceptions;
  if (!current || current.defaultAllow || current.defaultAllow !== target.defaultAllow) {
    out.push({ file: target.defaultAllow ? 'devices.allow' : 'devices.deny', value: 'a' });
    from = new Map();
  }
  for (const [key, have] of from!) {
    const gone = minus(have, target.exceptions.get(key) ?? '');
    if (gone) out.push({ file: take, value: `${key} ${gone}` });
  }
  for (const [key, want] of target.exceptions) {
    const gained = minus(want, from!.get(key) ?? '');
    if (gained) out.push({ file: add, value: `${key} ${gained}` });
  }
  return out;
}
