// Small checkers shared by the validators. Each takes the value and its
// JSON-path-style field name and throws a SpecError naming that field.

import { SpecError } from './errors.js';

export type Obj = Record<string, unknown>;

/** The field name used for the document itself. */
export const ROOT = '(root)';

export const UINT32_MAX = 4294967295;
/** 2^64: what JSON.parse makes of 18446744073709551615 (UINT64_MAX). */
export const UINT64_LIMIT = 2 ** 64;
const INT64_LIMIT = 2 ** 63;

const IDENT = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** `base.key`, or `base["key"]` when the key is not an identifier. */
export function key(base: string, k: string): string {
  if (base === ROOT || base === '') return IDENT.test(k) ? k : `[${JSON.stringify(k)}]`;
  return IDENT.test(k) ? `${base}.${k}` : `${base}[${JSON.stringify(k)}]`;
}

/** `base[i]` */
export function at(base: string, i: number): string {
  return `${base}[${i}]`;
}

export function fail(field: string, problem: string): never {
  throw new SpecError(field, problem);
}

/** Quote a value for an error message. */
export function show(v: unknown): string {
  return typeof v === 'string' ? JSON.stringify(v) : String(v);
}

/** `a, b, c` */
export function list(items: readonly string[]): string {
  return items.join(', ');
}

export function isObject(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function object(v: unknown, field: string): Obj {
  if (!isObject(v)) fail(field, 'must be an object');
  return v;
}

export function array(v: unknown, field: string, what = 'an array'): unknown[] {
  if (!Array.isArray(v)) fail(field, `must be ${what}`);
  return v;
}

export function string(v: unknown, field: string): string {
  if (typeof v !== 'string') fail(field, 'must be a string');
  return v;
}

/** A string that can be passed to a syscall (no NUL byte). */
export function cString(v: unknown, field: string): string {
  const s = string(v, field);
  if (s.includes('\0')) fail(field, 'must not contain a NUL byte');
  return s;
}

export function nonEmptyString(v: unknown, field: string): string {
  if (typeof v !== 'string' || v === '') fail(field, 'must be a non-empty string');
  if (v.includes('\0')) fail(field, 'must not contain a NUL byte');
  return v;
}

export function boolean(v: unknown, field: string): boolean {
  if (typeof v !== 'boolean') fail(field, 'must be a boolean');
  return v;
}

export function absPath(v: unknown, field: string): string {
  if (typeof v !== 'string' || !v.startsWith('/')) fail(field, 'must be an absolute path');
  if (v.includes('\0')) fail(field, 'must not contain a NUL byte');
  return v;
}

/** An integer between min and max inclusive. */
export function intIn(v: unknown, field: string, min: number, max: number, note = ''): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    fail(field, `must be an integer between ${min} and ${max}${note}`);
  }
  return v;
}

export function uint32(v: unknown, field: string): number {
  return intIn(v, field, 0, UINT32_MAX);
}

/** uint64 as JSON numbers can hold it: 0 .. 2^64 (UINT64_MAX rounds up to 2^64). */
export function uint64(v: unknown, field: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > UINT64_LIMIT) {
    fail(field, 'must be a non-negative integer');
  }
  return v;
}

export function int64(v: unknown, field: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < -INT64_LIMIT || v > INT64_LIMIT) {
    fail(field, 'must be an integer');
  }
  return v;
}

export function positiveInt(v: unknown, field: string, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) fail(field, 'must be a positive integer');
  if (v > max) fail(field, `must be at most ${max}`);
  return v;
}

export function oneOf<T extends string>(v: unknown, field: string, allowed: readonly T[]): T {
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
    fail(field, `must be one of ${list(allowed)}`);
  }
  return v as T;
}

/** An array whose every element passes `each`. */
export function arrayOf(
  v: unknown,
  field: string,
  each: (item: unknown, field: string, index: number) => void,
  what = 'an array',
): unknown[] {
  const a = array(v, field, what);
  a.forEach((item, i) => each(item, at(field, i), i));
  return a;
}

export function stringArray(v: unknown, field: string): string[] {
  return arrayOf(v, field, cString, 'an array of strings') as string[];
}

export function absPathArray(v: unknown, field: string): string[] {
  return arrayOf(v, field, absPath, 'an array of absolute paths') as string[];
}

/** `KEY=value` with a non-empty KEY. */
export function envEntry(v: unknown, field: string): string {
  if (typeof v !== 'string' || v.indexOf('=') < 1) fail(field, 'must be "KEY=value"');
  if (v.includes('\0')) fail(field, 'must not contain a NUL byte');
  return v;
}

export function envArray(v: unknown, field: string): string[] {
  return arrayOf(v, field, envEntry, 'an array of "KEY=value" strings') as string[];
}

/** An object mapping non-empty keys to strings. */
export function stringMap(v: unknown, field: string): Record<string, string> {
  const o = object(v, field);
  for (const [k, val] of Object.entries(o)) {
    if (k === '') fail(field, 'keys must not be empty');
    cString(val, key(field, k));
  }
  return o as Record<string, string>;
}

/**
 * Run `check` on o[k] when it is present. `null` counts as absent: Go's
 * encoders (podman, containerd, runc's own) write nil slices and maps as
 * null, and runc and crun take them so.
 */
export function opt(o: Obj, k: string, base: string, check: (v: unknown, field: string) => unknown): void {
  if (o[k] !== undefined && o[k] !== null) check(o[k], key(base, k));
}

/** Run `check` on o[k], which must be present. */
export function req(o: Obj, k: string, base: string, check: (v: unknown, field: string) => unknown): void {
  check(o[k], key(base, k));
}

/**
 * A deep copy of JSON data: plain objects, arrays, strings, finite numbers,
 * booleans and null. Properties whose value is `undefined` are left out (as
 * JSON.stringify does); anything else that JSON can't hold is an error.
 */
export function jsonCopy(v: unknown, field: string, seen: Set<object> = new Set()): unknown {
  switch (typeof v) {
    case 'string':
    case 'boolean':
      return v;
    case 'number':
      if (!Number.isFinite(v)) fail(field, `must be a finite number (got ${v})`);
      return v;
    case 'object':
      break;
    default:
      fail(field, `must be JSON data (got ${typeof v})`);
  }
  if (v === null) return null;
  if (seen.has(v)) fail(field, 'must not contain a reference to itself');
  seen.add(v);
  try {
    if (Array.isArray(v)) {
      // An index loop, not map(): map() would keep holes in a sparse array.
      const out: unknown[] = [];
      for (let i = 0; i < v.length; i++) {
        const item: unknown = v[i];
        if (item === undefined) fail(at(field, i), 'must be JSON data (got undefined)');
        out.push(jsonCopy(item, at(field, i), seen));
      }
      return out;
    }
    const proto = Object.getPrototypeOf(v);
    if (proto !== Object.prototype && proto !== null) {
      const name = (proto as { constructor?: { name?: string } }).constructor?.name ?? 'object';
      fail(field, `must be JSON data (got ${name})`);
    }
    const out: Obj = {};
    for (const [k, item] of Object.entries(v)) {
      if (item === undefined) continue;
      // defineProperty, so that a "__proto__" key stays a plain key.
      Object.defineProperty(out, k, {
        value: jsonCopy(item, key(field, k), seen),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return out;
  } finally {
    seen.delete(v);
  }
}
