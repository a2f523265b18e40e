// Checks for `linux.resources` (cgroup settings).

import {
  arrayOf,
  boolean,
  fail,
  int64,
  intIn,
  key,
  nonEmptyString,
  object,
  oneOf,
  opt,
  req,
  stringMap,
  uint32,
  uint64,
  UINT64_LIMIT,
  type Obj,
} from './check.js';
import { checkCpuList } from './validate-process.js';

export function checkResources(v: unknown, f: string): void {
  const r = object(v, f);
  opt(r, 'devices', f, (x, ff) => arrayOf(x, ff, checkDeviceRule));
  opt(r, 'memory', f, checkMemory);
  opt(r, 'cpu', f, checkCpu);
  opt(r, 'pids', f, checkPids);
  opt(r, 'blockIO', f, checkBlockIO);
  opt(r, 'hugepageLimits', f, (x, ff) => arrayOf(x, ff, checkHugepageLimit));
  opt(r, 'network', f, checkNetwork);
  opt(r, 'rdma', f, checkRdma);
  opt(r, 'unified', f, checkUnified);
}

/** A device major or minor number in a cgroup rule: -1 (or unset) is "all". */
function deviceNumber(v: unknown, f: string): void {
  intIn(v, f, -1, 4294967295, ' (-1 for all)');
}

function checkDeviceRule(v: unknown, f: string): void {
  const d = object(v, f);
  req(d, 'allow', f, boolean);
  opt(d, 'type', f, (x, ff) => oneOf(x, ff, ['a', 'c', 'b'] as const));
  opt(d, 'major', f, deviceNumber);
  opt(d, 'minor', f, deviceNumber);
  opt(d, 'access', f, (x, ff) => {
    if (typeof x !== 'string' || !/^[rwm]*$/.test(x)) fail(ff, 'must be a combination of r, w and m');
  });
}

/** Memory limits: bytes, or -1 for unlimited. */
function memoryLimit(v: unknown, f: string): void {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < -1 || v > 2 ** 63) {
    fail(f, 'must be -1 (unlimited) or a non-negative integer');
  }
}

function checkMemory(v: unknown, f: string): void {
  const m = object(v, f);
  for (const k of ['limit', 'reservation', 'swap', 'kernel', 'kernelTCP']) opt(m, k, f, memoryLimit);
  opt(m, 'swappiness', f, (x, ff) => {
    // UINT64_MAX (read back as 2^64) is what some tools write for "unset".
    if (x === UINT64_LIMIT) return;
    intIn(x, ff, 0, 100);
  });
  opt(m, 'disableOOMKiller', f, boolean);
  opt(m, 'useHierarchy', f, boolean);
  opt(m, 'checkBeforeUpdate', f, boolean);
}

function checkCpu(v: unknown, f: string): void {
  const c = object(v, f);
  opt(c, 'shares', f, uint64);
  opt(c, 'quota', f, int64);
  opt(c, 'burst', f, uint64);
  opt(c, 'period', f, uint64);
  opt(c, 'realtimeRuntime', f, int64);
  opt(c, 'realtimePeriod', f, uint64);
  opt(c, 'cpus', f, checkCpuList);
  opt(c, 'mems', f, checkCpuList);
  opt(c, 'idle', f, int64);
  const quota = c.quota as number | undefined;
  const burst = c.burst as number | undefined;
  if (quota !== undefined && burst !== undefined && quota > 0 && burst > quota) {
    fail(key(f, 'burst'), `must not be greater than quota (${quota})`);
  }
}

function checkPids(v: unknown, f: string): void {
  const p = object(v, f);
  req(p, 'limit', f, int64);
}

function uint16(v: unknown, f: string): void {
  intIn(v, f, 0, 65535);
}

function blockDevice(d: Obj, f: string): void {
  req(d, 'major', f, (x, ff) => intIn(x, ff, 0, 4294967295));
  req(d, 'minor', f, (x, ff) => intIn(x, ff, 0, 4294967295));
}

function checkBlockIO(v: unknown, f: string): void {
  const b = object(v, f);
  opt(b, 'weight', f, uint16);
  opt(b, 'leafWeight', f, uint16);
  opt(b, 'weightDevice', f, (x, ff) =>
    arrayOf(x, ff, (item, fi) => {
      const d = object(item, fi);
      blockDevice(d, fi);
      opt(d, 'weight', fi, uint16);
      opt(d, 'leafWeight', fi, uint16);
      if (d.weight === undefined && d.leafWeight === undefined) fail(fi, 'must set weight or leafWeight');
    }),
  );
  for (const k of [
    'throttleReadBpsDevice',
    'throttleWriteBpsDevice',
    'throttleReadIOPSDevice',
    'throttleWriteIOPSDevice',
  ]) {
    opt(b, k, f, (x, ff) =>
      arrayOf(x, ff, (item, fi) => {
        const d = object(item, fi);
        blockDevice(d, fi);
        req(d, 'rate', fi, uint64);
      }),
    );
  }
}

function checkHugepageLimit(v: unknown, f: string): void {
  const h = object(v, f);
  req(h, 'pageSize', f, (x, ff) => {
    if (typeof x !== 'string' || !/^[1-9][0-9]*[KMGTPE]?B$/.test(x)) {
      fail(ff, 'must be a size such as "2MB" or "64KB"');
    }
  });
  req(h, 'limit', f, uint64);
}

function checkNetwork(v: unknown, f: string): void {
  const n = object(v, f);
  opt(n, 'classID', f, uint32);
  opt(n, 'priorities', f, (x, ff) =>
    arrayOf(x, ff, (item, fi) => {
      const p = object(item, fi);
      req(p, 'name', fi, nonEmptyString);
      req(p, 'priority', fi, uint32);
    }),
  );
}

function checkRdma(v: unknown, f: string): void {
  const r = object(v, f);
  for (const [dev, limits] of Object.entries(r)) {
    const fi = key(f, dev);
    if (dev === '') fail(f, 'keys must not be empty');
    const l = object(limits, fi);
    opt(l, 'hcaHandles', fi, uint32);
    opt(l, 'hcaObjects', fi, uint32);
    if (l.hcaHandles === undefined && l.hcaObjects === undefined) fail(fi, 'must set hcaHandles or hcaObjects');
  }
}

// Keys name files in the container's cgroup directory: a "/" or ".." would
// reach outside it.
function checkUnified(v: unknown, f: string): void {
  const u = stringMap(v, f);
  for (const k of Object.keys(u)) {
    if (k.includes('/') || k === '.' || k === '..') fail(key(f, k), 'must be a cgroup file name (without "/")');
  }
}
