// Checks for `linux` (everything but `linux.resources`).

import {
  absPath,
  absPathArray,
  arrayOf,
  at,
  boolean,
  cString,
  fail,
  int64,
  intIn,
  isObject,
  key,
  list,
  nonEmptyString,
  object,
  oneOf,
  opt,
  positiveInt,
  req,
  show,
  string,
  stringArray,
  stringMap,
  uint32,
  uint64,
  UINT32_MAX,
} from './check.js';
import {
  NAMESPACE_TYPES,
  ROOTFS_PROPAGATIONS,
  SECCOMP_ACTIONS,
  SECCOMP_ARCHITECTURES,
  SECCOMP_FLAGS,
  SECCOMP_OPERATORS,
} from './defaults.js';
import { checkResources } from './validate-resources.js';

/** Most lines a uid_map/gid_map takes (Linux 4.15 and later). */
export const MAX_ID_MAPPINGS = 340;

export function checkLinux(v: unknown, f: string): void {
  const l = object(v, f);
  opt(l, 'uidMappings', f, checkIdMappings);
  opt(l, 'gidMappings', f, checkIdMappings);
  opt(l, 'sysctl', f, stringMap);
  opt(l, 'resources', f, checkResources);
  opt(l, 'cgroupsPath', f, cString);
  opt(l, 'namespaces', f, checkNamespaces);
  opt(l, 'devices', f, (x, ff) => arrayOf(x, ff, checkDevice));
  opt(l, 'seccomp', f, checkSeccomp);
  opt(l, 'rootfsPropagation', f, (x, ff) => oneOf(x, ff, ROOTFS_PROPAGATIONS));
  opt(l, 'maskedPaths', f, absPathArray);
  opt(l, 'readonlyPaths', f, absPathArray);
  opt(l, 'mountLabel', f, cString);
  opt(l, 'intelRdt', f, checkIntelRdt);
  opt(l, 'personality', f, checkPersonality);
  opt(l, 'timeOffsets', f, checkTimeOffsets);
}

/**
 * uid/gid mappings as the kernel takes them in uid_map/gid_map: each range
 * within 32 bits, no two ranges overlapping on either side.
 */
export function checkIdMappings(v: unknown, f: string): void {
  const a = arrayOf(v, f, (item, fi) => {
    const m = object(item, fi);
    const c = uint32(m.containerID, key(fi, 'containerID'));
    const h = uint32(m.hostID, key(fi, 'hostID'));
    const size = positiveInt(m.size, key(fi, 'size'), UINT32_MAX);
    if (c + size - 1 > UINT32_MAX) fail(key(fi, 'size'), `containerID + size must not exceed ${UINT32_MAX + 1}`);
    if (h + size - 1 > UINT32_MAX) fail(key(fi, 'size'), `hostID + size must not exceed ${UINT32_MAX + 1}`);
  });
  if (a.length > MAX_ID_MAPPINGS) fail(f, `must have at most ${MAX_ID_MAPPINGS} entries`);
  const ms = a as { containerID: number; hostID: number; size: number }[];
  ms.forEach((b, j) => {
    ms.slice(0, j).forEach((a1, i) => {
      if (overlap(a1.containerID, a1.size, b.containerID, b.size)) {
        fail(at(f, j), `container IDs overlap those of ${at(f, i)}`);
      }
      if (overlap(a1.hostID, a1.size, b.hostID, b.size)) {
        fail(at(f, j), `host IDs overlap those of ${at(f, i)}`);
      }
    });
  });
}

function overlap(s1: number, n1: number, s2: number, n2: number): boolean {
  return s1 < s2 + n2 && s2 < s1 + n1;
}

function checkNamespaces(v: unknown, f: string): void {
  const seen = new Set<string>();
  arrayOf(v, f, (item, fi) => {
    const n = object(item, fi);
    const typeField = key(fi, 'type');
    const type = string(n.type, typeField);
    if (!(NAMESPACE_TYPES as readonly string[]).includes(type)) {
      fail(typeField, `unknown namespace type ${show(type)} (expected one of ${list(NAMESPACE_TYPES)})`);
    }
    opt(n, 'path', fi, absPath);
    if (seen.has(type)) fail(f, `duplicate namespace type ${show(type)}`);
    seen.add(type);
  });
}

function checkDevice(v: unknown, f: string): void {
  const d = object(v, f);
  const type = oneOf(d.type, key(f, 'type'), ['c', 'b', 'u', 'p'] as const);
  req(d, 'path', f, absPath);
  const num = (x: unknown, ff: string) => intIn(x, ff, 0, UINT32_MAX);
  if (type === 'p') {
    opt(d, 'major', f, num);
    opt(d, 'minor', f, num);
  } else {
    req(d, 'major', f, num);
    req(d, 'minor', f, num);
  }
  opt(d, 'fileMode', f, uint32);
  opt(d, 'uid', f, uint32);
  opt(d, 'gid', f, uint32);
}

const ERRNO_ACTIONS = ['SCMP_ACT_ERRNO', 'SCMP_ACT_TRACE'];

function checkSeccomp(v: unknown, f: string): void {
  const s = object(v, f);
  const defaultAction = oneOf(s.defaultAction, key(f, 'defaultAction'), SECCOMP_ACTIONS);
  opt(s, 'defaultErrnoRet', f, (x, ff) => {
    uint32(x, ff);
    if (!ERRNO_ACTIONS.includes(defaultAction)) fail(ff, `only allowed with ${ERRNO_ACTIONS.join(' or ')}`);
  });
  opt(s, 'architectures', f, (x, ff) => knownStrings(x, ff, SECCOMP_ARCHITECTURES, 'architecture'));
  opt(s, 'flags', f, (x, ff) => knownStrings(x, ff, SECCOMP_FLAGS, 'seccomp flag'));
  opt(s, 'listenerPath', f, nonEmptyString);
  opt(s, 'listenerMetadata', f, cString);
  if (s.listenerMetadata !== undefined && s.listenerPath === undefined) {
    fail(key(f, 'listenerMetadata'), 'requires listenerPath');
  }
  let notify = defaultAction === 'SCMP_ACT_NOTIFY';
  opt(s, 'syscalls', f, (x, ff) =>
    arrayOf(x, ff, (item, fi) => {
      const sc = object(item, fi);
      const names = arrayOf(sc.names, key(fi, 'names'), nonEmptyString, 'a non-empty array of strings');
      if (names.length === 0) fail(key(fi, 'names'), 'must be a non-empty array of strings');
      const action = oneOf(sc.action, key(fi, 'action'), SECCOMP_ACTIONS);
      if (action === 'SCMP_ACT_NOTIFY') notify = true;
      opt(sc, 'errnoRet', fi, (e, fe) => {
        uint32(e, fe);
        if (!ERRNO_ACTIONS.includes(action)) fail(fe, `only allowed with ${ERRNO_ACTIONS.join(' or ')}`);
      });
      opt(sc, 'args', fi, (args, fa) =>
        arrayOf(args, fa, (arg, fg) => {
          const g = object(arg, fg);
          req(g, 'index', fg, (n, fn) => intIn(n, fn, 0, 5));
          req(g, 'value', fg, uint64);
          opt(g, 'valueTwo', fg, uint64);
          req(g, 'op', fg, (o, fo) => oneOf(o, fo, SECCOMP_OPERATORS));
        }),
      );
    }),
  );
  if (notify && s.listenerPath === undefined) {
    fail(key(f, 'listenerPath'), 'required when SCMP_ACT_NOTIFY is used');
  }
}

function knownStrings(v: unknown, f: string, known: readonly string[], what: string): void {
  arrayOf(
    v,
    f,
    (x, fi) => {
      string(x, fi);
      if (!known.includes(x as string)) fail(fi, `unknown ${what} ${show(x)}`);
    },
    'an array of strings',
  );
}

function checkIntelRdt(v: unknown, f: string): void {
  const r = object(v, f);
  opt(r, 'closID', f, (x, ff) => {
    const s = cString(x, ff);
    if (s.includes('/') || s === '.' || s === '..') fail(ff, 'must be a directory name (without "/")');
  });
  opt(r, 'l3CacheSchema', f, cString);
  opt(r, 'memBwSchema', f, (x, ff) => {
    const s = cString(x, ff);
    if (!s.startsWith('MB:') || s.includes('\n')) fail(ff, 'must start with "MB:" and be one line');
  });
  opt(r, 'schemata', f, cString);
  opt(r, 'enableCMT', f, boolean);
  opt(r, 'enableMBM', f, boolean);
}

function checkPersonality(v: unknown, f: string): void {
  const p = object(v, f);
  req(p, 'domain', f, (x, ff) => oneOf(x, ff, ['LINUX', 'LINUX32'] as const));
  opt(p, 'flags', f, stringArray);
}

const CLOCKS = ['monotonic', 'boottime'];

function checkTimeOffsets(v: unknown, f: string): void {
  const t = object(v, f);
  for (const [clock, off] of Object.entries(t)) {
    const fc = key(f, clock);
    if (!CLOCKS.includes(clock)) fail(fc, `unknown clock (expected one of ${list(CLOCKS)})`);
    const o = object(off, fc);
    opt(o, 'secs', fc, int64);
    opt(o, 'nanosecs', fc, (x, ff) => intIn(x, ff, 0, 999999999));
  }
}

/** The `linux.namespaces` entry of a type, if any (after validation). */
export function findNamespace(linux: unknown, type: string): { type: string; path?: string } | undefined {
  if (!isObject(linux) || !Array.isArray(linux.namespaces)) return undefined;
  return (linux.namespaces as { type: string; path?: string }[]).find((n) => n.type === type);
}
