// Checks for `process`.

import {
  absPath,
  arrayOf,
  boolean,
  cString,
  envArray,
  fail,
  intIn,
  key,
  list,
  nonEmptyString,
  object,
  oneOf,
  opt,
  req,
  show,
  string,
  uint32,
  uint64,
  at,
  type Obj,
} from './check.js';
import {
  CAPABILITIES,
  IOPRIO_CLASSES,
  RLIMITS,
  SCHEDULER_FLAGS,
  SCHEDULER_POLICIES,
} from './defaults.js';

const CAP_SETS = ['bounding', 'effective', 'inheritable', 'permitted', 'ambient'] as const;

export function checkProcess(v: unknown, f: string): void {
  const p = object(v, f);
  opt(p, 'terminal', f, boolean);
  opt(p, 'consoleSize', f, checkConsoleSize);
  req(p, 'user', f, checkUser);
  checkArgs(p, f);
  opt(p, 'commandLine', f, string);
  opt(p, 'env', f, envArray);
  req(p, 'cwd', f, absPath);
  opt(p, 'capabilities', f, checkCapabilities);
  opt(p, 'rlimits', f, checkRlimits);
  opt(p, 'noNewPrivileges', f, boolean);
  opt(p, 'apparmorProfile', f, cString);
  opt(p, 'oomScoreAdj', f, (x, ff) => intIn(x, ff, -1000, 1000));
  opt(p, 'selinuxLabel', f, cString);
  opt(p, 'scheduler', f, checkScheduler);
  opt(p, 'ioPriority', f, checkIOPriority);
  opt(p, 'execCPUAffinity', f, checkExecCPUAffinity);
}

function checkConsoleSize(v: unknown, f: string): void {
  const o = object(v, f);
  req(o, 'height', f, (x, ff) => intIn(x, ff, 0, 65535));
  req(o, 'width', f, (x, ff) => intIn(x, ff, 0, 65535));
}

function checkUser(v: unknown, f: string): void {
  const u = object(v, f);
  req(u, 'uid', f, uint32);
  req(u, 'gid', f, uint32);
  opt(u, 'umask', f, (x, ff) => intIn(x, ff, 0, 0o777, ' (0o777)'));
  opt(u, 'additionalGids', f, (x, ff) => arrayOf(x, ff, uint32, 'an array of integers'));
  opt(u, 'username', f, string);
}

// args must be a non-empty array of strings unless commandLine (Windows) is
// given; args[0] names the program and must not be empty, later arguments may be.
function checkArgs(p: Obj, f: string): void {
  const field = key(f, 'args');
  const args = p.args;
  if (args === undefined) {
    if (typeof p.commandLine === 'string') return;
    fail(field, 'must be a non-empty array of strings');
  }
  if (!Array.isArray(args)) fail(field, 'must be a non-empty array of strings');
  if (args.length === 0) {
    if (typeof p.commandLine === 'string') return;
    fail(field, 'must be a non-empty array of strings');
  }
  nonEmptyString(args[0], at(field, 0));
  for (let i = 1; i < args.length; i++) cString(args[i], at(field, i));
}

function checkCapabilities(v: unknown, f: string): void {
  const c = object(v, f);
  for (const set of CAP_SETS) {
    opt(c, set, f, (x, ff) =>
      arrayOf(
        x,
        ff,
        (name, fi) => {
          string(name, fi);
          if (!Object.hasOwn(CAPABILITIES, name as string)) fail(fi, `unknown capability ${show(name)}`);
        },
        'an array of strings',
      ),
    );
  }
}

function checkRlimits(v: unknown, f: string): void {
  const seen = new Set<string>();
  arrayOf(v, f, (item, fi) => {
    const r = object(item, fi);
    const typeField = key(fi, 'type');
    const type = string(r.type, typeField);
    if (!Object.hasOwn(RLIMITS, type)) fail(typeField, `unknown rlimit ${show(type)}`);
    const hard = uint64(r.hard, key(fi, 'hard'));
    const soft = uint64(r.soft, key(fi, 'soft'));
    if (soft > hard) fail(key(fi, 'soft'), `must not be greater than hard (${hard})`);
    if (seen.has(type)) fail(f, `duplicate rlimit ${show(type)}`);
    seen.add(type);
  });
}

function checkScheduler(v: unknown, f: string): void {
  const s = object(v, f);
  req(s, 'policy', f, (x, ff) => oneOf(x, ff, SCHEDULER_POLICIES));
  opt(s, 'nice', f, (x, ff) => intIn(x, ff, -20, 19));
  opt(s, 'priority', f, (x, ff) => intIn(x, ff, 0, 99));
  opt(s, 'flags', f, (x, ff) =>
    arrayOf(
      x,
      ff,
      (flag, fi) => {
        string(flag, fi);
        if (!(SCHEDULER_FLAGS as readonly string[]).includes(flag as string)) {
          fail(fi, `unknown scheduler flag ${show(flag)} (expected one of ${list(SCHEDULER_FLAGS)})`);
        }
      },
      'an array of strings',
    ),
  );
  opt(s, 'runtime', f, uint64);
  opt(s, 'deadline', f, uint64);
  opt(s, 'period', f, uint64);
}

function checkIOPriority(v: unknown, f: string): void {
  const o = object(v, f);
  req(o, 'class', f, (x, ff) => oneOf(x, ff, IOPRIO_CLASSES));
  req(o, 'priority', f, (x, ff) => intIn(x, ff, 0, 7));
}

function checkExecCPUAffinity(v: unknown, f: string): void {
  const o = object(v, f);
  opt(o, 'initial', f, checkCpuList);
  opt(o, 'final', f, checkCpuList);
}

const CPU_LIST = /^\s*\d+(\s*-\s*\d+)?(\s*,\s*\d+(\s*-\s*\d+)?)*\s*$/;

/** A cpuset list such as `0-3,6`; empty means no restriction. */
export function checkCpuList(v: unknown, f: string): void {
  const s = string(v, f);
  if (s !== '' && !CPU_LIST.test(s)) fail(f, 'must be a list of CPU numbers and ranges such as "0-3,6"');
}
