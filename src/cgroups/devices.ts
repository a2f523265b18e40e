// Device access policy, shared by both versions: the spec's rules, the
// devices every container may use (runc's list), and an allow rule for each
// of linux.devices. v1 writes these to devices.allow/deny; v2 compiles them
// into an eBPF program (v2/bpf.ts).
import type { Device, DeviceCgroup } from '../spec/types.js';
import { DEFAULT_DEVICES } from '../mounts/devices.js';

/** A rule with every field filled in: -1 is "any" major or minor. */
export interface DeviceRule {
  allow: boolean;
  type: 'a' | 'c' | 'b';
  major: number;
  minor: number;
  /** Some of r, w, m. */
  access: string;
}

const rule = (type: 'c' | 'b', major: number, minor: number, access = 'rwm'): DeviceRule => ({ allow: true, type, major, minor, access });

/** What runc allows after the spec's rules: mknod of anything, the standard nodes, ptys. */
export const ALLOWED_DEVICES: readonly DeviceRule[] = Object.freeze([
  rule('c', -1, -1, 'm'),
  rule('b', -1, -1, 'm'),
  ...DEFAULT_DEVICES.map((d) => rule('c', d.major, d.minor)),
  rule('c', 136, -1), // /dev/pts/*
  rule('c', 5, 2), // /dev/ptmx
]);

const isWildcard = (r: DeviceRule) => r.type === 'a' && r.major < 0 && r.minor < 0 && [...'rwm'].every((c) => r.access.includes(c));

export function normalize(d: DeviceCgroup): DeviceRule {
  return { allow: d.allow, type: d.type ?? 'a', major: d.major ?? -1, minor: d.minor ?? -1, access: d.access || 'rwm' };
}

export interface DevicePolicy {
  /** What a device no rule matches gets. */
  defaultAllow: boolean;
  /** In order: a later rule overrides an earlier one. None is a full wildcard. */
  rules: DeviceRule[];
}

/**
 * The effective policy: deny by default (as runc), then the spec's rules,
 * the allowed devices and linux.devices, in that order. Everything before
 * the last allow-all or deny-all rule is dropped, since that rule resets it.
 */
export function devicePolicy(specRules: readonly DeviceCgroup[] = [], devices: readonly Device[] = []): DevicePolicy {
  const all = [
    ...specRules.map(normalize),
    ...ALLOWED_DEVICES,
    ...devices.filter((d) => d.type !== 'p').map((d) => rule(d.type === 'b' ? 'b' : 'c', d.major ?? -1, d.minor ?? -1)),
  ];
  let defaultAllow = false;
  let start = 0;
  all.forEach((r, i) => {
    if (isWildcard(r)) {
      defaultAllow = r.allow;
      start = i + 1;
    }
  });
  return { defaultAllow, rules: all.slice(start) };
}

/** The v1 lines: the default first ("a" to devices.allow or devices.deny), then each rule. */
export function v1DeviceWrites(p: DevicePolicy): { file: 'devices.allow' | 'devices.deny'; value: string }[] {
  const file = (allow: boolean) => (allow ? 'devices.allow' : 'devices.deny');
  const num = (n: number) => (n < 0 ? '*' : String(n));
  const out: { file: 'devices.allow' | 'devices.deny'; value: string }[] = [{ file: file(p.defaultAllow), value: 'a' }];
  for (const r of p.rules) {
    // The kernel reads a bare "a" as "everything": a partial "all types" rule is one per type.
    for (const t of r.type === 'a' ? (['c', 'b'] as const) : [r.type])
      out.push({ file: file(r.allow), value: `${t} ${num(r.major)}:${num(r.minor)} ${r.access}` });
  }
  return out;
}

/**
 * The policy's answer for one access, as v2's program computes it: each
 * requested bit goes by the last rule that matches the device and has that
 * bit; all requested bits must be allowed.
 */
export function policyAllows(p: DevicePolicy, type: 'c' | 'b', major: number, minor: number, access: string): boolean {
  return [...access].every((bit) => {
    let allow = p.defaultAllow;
    for (const r of p.rules) {
      if ((r.type === 'a' || r.type === type) && (r.major < 0 || r.major === major) && (r.minor < 0 || r.minor === minor) && r.access.includes(bit))
        allow = r.allow;
    }
    return allow;
  });
}
