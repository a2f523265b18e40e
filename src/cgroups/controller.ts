// What a controller file (v1/*.ts, v2/*.ts) gets to work with: its
// directory and a write that names the spec field in errors.
import { join } from 'node:path';
import type { Resources } from '../spec/types.js';
import { badValue } from './errors.js';
import { exists, readNumber, readText, writeValue, type Hint } from './fs.js';
import type { Stats } from './stats.js';

export class Files {
  constructor(
    /** The container's cgroup directory (in this controller's hierarchy on v1). */
    readonly dir: string,
    /** Field prefix for errors, e.g. "linux.resources". */
    readonly prefix: string,
    readonly step: string,
  ) {}

  field(name: string): string {
    return `${this.prefix}.${name}`;
  }

  path(file: string): string {
    return join(this.dir, file);
  }

  has(file: string): boolean {
    return exists(join(this.dir, file));
  }

  read(file: string): string | undefined {
    return readText(join(this.dir, file));
  }

  number(file: string): number | undefined {
    return readNumber(join(this.dir, file));
  }

  /** Writes a value; `field` (relative to the prefix) is named if the kernel refuses it. */
  write(file: string, value: string | number, field: string, hint?: Hint): void {
    writeValue(join(this.dir, file), String(value), this.field(field), this.step, hint);
  }

  /** Writes to the first of `files` that exists; none → an error naming the field. */
  writeFirst(files: string[], value: string | number, field: string, missing: string): void {
    const file = files.find((f) => this.has(f));
    if (!file) throw badValue(this.field(field), missing, this.step);
    this.write(file, value, field);
  }
}

export interface Controller {
  /** The kernel's controller name ("memory", "io", ...). */
  readonly name: string;
  /** The linux.resources fields it applies (when one is set and the controller is missing, that is an error). */
  fieldsSet(r: Resources): string[];
  set(f: Files, r: Resources): void;
  stats?(f: Files, s: Stats): void;
}

/** Names of the fields of `o` that are set, prefixed: used by fieldsSet. */
export function setFields(base: string, o: object | undefined, keys?: readonly string[]): string[] {
  if (!o) return [];
  return Object.entries(o)
    .filter(([k, v]) => v !== undefined && (!keys || keys.includes(k)))
    .map(([k]) => `${base}.${k}`);
}
