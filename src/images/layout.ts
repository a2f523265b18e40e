// The two shapes an image arrives in, seen the same way: a directory (an OCI
// image layout, or an unpacked `docker save`) or an uncompressed tar of one,
// read through its table of contents. Names are relative, checked by
// entryParts: a manifest cannot point a read outside the layout.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { imageError } from './errors.js';
import { entryParts } from './paths.js';
import { fileChunks, type FileRegion } from './read.js';
import type { TarIndex } from './tarindex.js';

export interface Layout {
  /** For errors: the path given to import. */
  readonly where: string;
  has(name: string): boolean;
  /** A small member (JSON) whole. */
  read(name: string): Buffer;
  /** A blob as a stream. */
  open(name: string): FileRegion;
}

const MAX_JSON = 16 << 20;

export class DirLayout implements Layout {
  constructor(readonly dir: string, readonly where = dir) {}
  private path(name: string) {
    return join(this.dir, ...entryParts(name, 'layout member'));
  }
  has(name: string): boolean {
    return existsSync(this.path(name));
  }
  read(name: string): Buffer {
    const p = this.path(name);
    if (!existsSync(p)) throw imageError('ENOENT', `the image has no ${name}`, { path: this.where });
    if (statSync(p).size > MAX_JSON) throw imageError('EFBIG', `${name} is too large for a JSON document`, { path: this.where });
    return readFileSync(p);
  }
  open(name: string): FileRegion {
    const p = this.path(name);
    if (!existsSync(p)) throw imageError('ENOENT', `the image has no ${name}`, { path: this.where });
    return fileChunks(p);
  }
}

export class TarLayout implements Layout {
  constructor(private index: TarIndex, readonly where: string) {}
  private member(name: string) {
    const m = this.index.get(entryParts(name, 'layout member').join('/'));
    if (!m) throw imageError('ENOENT', `the archive has no ${name}`, { path: this.where });
    return m;
  }
  has(name: string): boolean {
    return !!this.index.get(entryParts(name, 'layout member').join('/'));
  }
  read(name: string): Buffer {
    const m = this.member(name);
    if (m.size > MAX_JSON) throw imageError('EFBIG', `${name} is too large for a JSON document`, { path: this.where });
    return this.index.readAll(m);
  }
  open(name: string): FileRegion {
    return this.index.stream(this.member(name));
  }
}
