// validateSpec: check a parsed config.json and return a typed deep copy.
// parseSpecJson: JSON.parse + validateSpec, with syntax errors as SpecErrors.

import {
  absPath,
  arrayOf,
  boolean,
  envArray,
  fail,
  jsonCopy,
  key,
  nonEmptyString,
  object,
  opt,
  positiveInt,
  req,
  ROOT,
  show,
  string,
  stringArray,
  stringMap,
  type Obj,
} from './check.js';
import { HOOK_NAMES } from './defaults.js';
import { SpecError } from './errors.js';
import { parseJson } from './json.js';
import type { IDMapping, Spec } from './types.js';
import { checkIdMappings, checkLinux, findNamespace } from './validate-linux.js';
import { checkProcess } from './validate-process.js';

// SemVer 2.0.0 (semver.org).
const SEMVER =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*)?(?:\+[0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*)?$/;

/** Longest hostname/domainname the kernel takes (HOST_NAME_MAX). */
const HOST_NAME_MAX = 64;

/**
 * Check a parsed config.json. Returns a deep copy typed as Spec (properties
 * set to `undefined` are dropped); the input is not modified. Unknown keys are
 * kept, as the spec allows extensions. Throws a SpecError for the first
 * problem found.
 */
export function validateSpec(input: unknown): Spec {
  const spec = object(jsonCopy(input, ROOT), ROOT);

  req(spec, 'ociVersion', ROOT, checkOciVersion);
  opt(spec, 'process', ROOT, checkProcess);
  opt(spec, 'root', ROOT, checkRoot);
  opt(spec, 'hostname', ROOT, checkHostName);
  opt(spec, 'domainname', ROOT, checkHostName);
  opt(spec, 'mounts', ROOT, (v, f) => arrayOf(v, f, checkMount));
  opt(spec, 'hooks', ROOT, checkHooks);
  opt(spec, 'annotations', ROOT, stringMap);
  opt(spec, 'linux', ROOT, checkLinux);

  checkNamespaceNeeds(spec);
  return spec as unknown as Spec;
}

/**
 * Parse config.json text and validate it. A JSON syntax error becomes a
 * SpecError for field `(root)`; `source` (a file name, say) is recorded on
 * every SpecError thrown and named in syntax errors.
 */
export function parseSpecJson(text: string, source?: string): Spec {
  try {
    return validateSpec(parseJson(text, source));
  } catch (err) {
    if (err instanceof SpecError && source !== undefined) err.source = source;
    throw err;
  }
}

function checkOciVersion(v: unknown, f: string): void {
  const s = string(v, f);
  if (!SEMVER.test(s)) fail(f, `must be a SemVer version such as "1.0.2" (got ${show(s)})`);
  if (!s.startsWith('1.')) fail(f, `unsupported version ${show(s)} (expected 1.x)`);
}

function checkRoot(v: unknown, f: string): void {
  const r = object(v, f);
  req(r, 'path', f, nonEmptyString);
  opt(r, 'readonly', f, boolean);
}

function checkHostName(v: unknown, f: string): void {
  const s = string(v, f);
  if (Buffer.byteLength(s) > HOST_NAME_MAX) fail(f, `must be at most ${HOST_NAME_MAX} bytes`);
  if (s.includes('\0')) fail(f, 'must not contain a NUL byte');
}

function checkMount(v: unknown, f: string): void {
  const m = object(v, f);
  req(m, 'destination', f, absPath);
  opt(m, 'type', f, string);
  opt(m, 'source', f, string);
  opt(m, 'options', f, stringArray);
  opt(m, 'uidMappings', f, checkIdMappings);
  opt(m, 'gidMappings', f, checkIdMappings);
  // An id-mapped mount needs both maps to build its user namespace.
  if (m.uidMappings !== undefined && m.gidMappings === undefined) {
    fail(key(f, 'gidMappings'), 'required when uidMappings is given');
  }
  if (m.gidMappings !== undefined && m.uidMappings === undefined) {
    fail(key(f, 'uidMappings'), 'required when gidMappings is given');
  }
}

function checkHooks(v: unknown, f: string): void {
  const h = object(v, f);
  for (const name of HOOK_NAMES) opt(h, name, f, (x, ff) => arrayOf(x, ff, checkHook));
}

function checkHook(v: unknown, f: string): void {
  const h = object(v, f);
  req(h, 'path', f, absPath);
  opt(h, 'args', f, stringArray);
  opt(h, 'env', f, envArray);
  opt(h, 'timeout', f, positiveInt);
}

// Sysctls the kernel keeps per namespace, and which namespace that is. Any
// other sysctl written from inside the container would change the host.
const IPC_SYSCTLS = new Set([
  'kernel.msgmax',
  'kernel.msgmnb',
  'kernel.msgmni',
  'kernel.sem',
  'kernel.shmall',
  'kernel.shmmax',
  'kernel.shmmni',
  'kernel.shm_rmid_forced',
]);

function sysctlNamespace(name: string): string | undefined {
  const n = name.replaceAll('/', '.');
  if (IPC_SYSCTLS.has(n) || n.startsWith('fs.mqueue.')) return 'ipc';
  if (n.startsWith('net.')) return 'network';
  if (n === 'kernel.hostname' || n === 'kernel.domainname') return 'uts';
  return undefined;
}

/** Rules that tie other fields to the namespaces in linux.namespaces. */
function checkNamespaceNeeds(spec: Obj): void {
  const linux = spec.linux as Obj | undefined;
  const needs = (field: string, type: string): void => {
    const article = type === 'ipc' ? 'an' : 'a';
    if (!findNamespace(linux, type)) fail(field, `requires ${article} ${show(type)} namespace in linux.namespaces`);
  };

  for (const k of ['hostname', 'domainname']) {
    if (typeof spec[k] === 'string' && spec[k] !== '') needs(k, 'uts');
  }
  if (!linux) return;

  const uidMappings = linux.uidMappings as IDMapping[] | undefined;
  const gidMappings = linux.gidMappings as IDMapping[] | undefined;
  if (uidMappings?.length) needs('linux.uidMappings', 'user');
  if (gidMappings?.length) needs('linux.gidMappings', 'user');
  const userns = findNamespace(linux, 'user');
  if (userns && userns.path === undefined) {
    if (!uidMappings?.length) fail('linux.uidMappings', 'required for a new "user" namespace (one without "path")');
    if (!gidMappings?.length) fail('linux.gidMappings', 'required for a new "user" namespace (one without "path")');
  }
  if (userns && uidMappings?.length && gidMappings?.length) checkUserMapped(spec, uidMappings, gidMappings);

  const offsets = linux.timeOffsets as Obj | undefined;
  if (offsets && Object.keys(offsets).length > 0) {
    needs('linux.timeOffsets', 'time');
    if (findNamespace(linux, 'time')?.path !== undefined) {
      fail('linux.timeOffsets', 'cannot be applied to a joined "time" namespace (one with "path")');
    }
  }

  const sysctl = linux.sysctl as Record<string, string> | undefined;
  for (const name of Object.keys(sysctl ?? {})) {
    const field = key('linux.sysctl', name);
    const type = sysctlNamespace(name);
    if (type === undefined) fail(field, 'is not namespaced: setting it would change the host');
    needs(field, type);
  }
}

// With a user namespace, the process's IDs must be mapped or setuid/setgid fail.
function checkUserMapped(spec: Obj, uidMappings: IDMapping[], gidMappings: IDMapping[]): void {
  const user = (spec.process as Obj | undefined)?.user as
    | { uid: number; gid: number; additionalGids?: number[] }
    | undefined;
  if (!user) return;
  const mapped = (id: number, maps: IDMapping[]) =>
    maps.some((m) => id >= m.containerID && id < m.containerID + m.size);
  if (!mapped(user.uid, uidMappings)) fail('process.user.uid', `${user.uid} is not mapped by linux.uidMappings`);
  if (!mapped(user.gid, gidMappings)) fail('process.user.gid', `${user.gid} is not mapped by linux.gidMappings`);
  (user.additionalGids ?? []).forEach((gid, i) => {
    if (!mapped(gid, gidMappings)) {
      fail(`process.user.additionalGids[${i}]`, `${gid} is not mapped by linux.gidMappings`);
    }
  });
}
