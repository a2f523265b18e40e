// Where berth keeps images on disk (default /var/lib/berth):
//   layers/sha256/<hex>    one unpacked layer per diff id (sha256 of its tar); <hex>.json its size
//   images/<name>.json     image records (encodeURIComponent of the name)
//   containers/<id>/       a container's rootfs: upper/, work/, rootfs/ and image.json
//   volumes/<name>/        named volumes, outliving containers
//   tmp/                   half-made layers (layer-<pid>-*), renamed into layers/ when complete;
//                          pins of running imports (pin-<pid>-*.json); removed layers (gc-<pid>-*)
//   lock                   flock(2) held for each change to layers/, images/ and containers/
//
// Many processes may import, remove and make rootfs at once. Each change is
// a short section under the store's lock: "the store has this layer, so
// skip it" and "no image, container or import uses this layer, so remove
// it" are decided under the same lock, and an import pins every layer it
// has found or added until its image record is written. Unpacking happens
// outside the lock (imports run side by side); a removed layer is renamed
// into tmp/ under the lock and deleted after it is released.
import { closeSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { native } from '../native.js';
import { imageError } from './errors.js';
import type { ImageRecord } from './types.js';

/** containers/<id>/image.json: the image a container's rootfs is made of. */
export interface ContainerRecord {
  id: string;
  image?: string;
  /** Diff ids, bottom first. */
  layers: string[];
}

export const DEFAULT_DATA_DIR = '/var/lib/berth';

export interface StoreOptions {
  /** berth's data directory (default /var/lib/berth). */
  dataDir?: string;
}

const HEX = /^[0-9a-f]{64}$/;
/** "sha256:<hex>" → "<hex>", or undefined if it is not one. */
export function sha256Hex(digest: string | undefined): string | undefined {
  const m = /^sha256:([0-9a-f]{64})$/.exec(digest ?? '');
  return m?.[1];
}

/** How long a store operation waits for another process's section (they take milliseconds). */
export const LOCK_TIMEOUT_MS = 30_000;
const sleeper = new Int32Array(new SharedArrayBuffer(4));

export class Store {
  readonly dir: string;
  /** Layer directories renamed away under the lock, deleted once it is released. */
  private trash: string[] = [];
  private held = false;
  constructor(opts: StoreOptions = {}) {
    this.dir = opts.dataDir ?? DEFAULT_DATA_DIR;
  }

  /**
   * Runs fn holding the store's exclusive lock. Synchronous: the sections are
   * a few renames and small JSON files, so the thread waits (1-20 ms steps)
   * rather than the API turning async; a holder that never lets go is an
   * ETIMEDOUT naming the lock file. Not reentrant: sections do not nest.
   */
  locked<T>(fn: () => T): T {
    if (this.held) throw new Error('Store.locked: sections do not nest');
    mkdirSync(this.dir, { recursive: true, mode: 0o711 });
    const file = join(this.dir, 'lock');
    const fd = openSync(file, 'a', 0o600);
    try {
      const until = Date.now() + LOCK_TIMEOUT_MS;
      for (let wait = 1; !native().flock(fd, true, false); wait = Math.min(wait * 2, 20)) {
        if (Date.now() > until)
          throw imageError('ETIMEDOUT', 'timed out waiting for the image store lock', { path: file, step: 'lock the image store' });
        Atomics.wait(sleeper, 0, 0, wait);
      }
      this.held = true;
      try {
        return fn();
      } finally {
        this.held = false;
      }
    } finally {
      closeSync(fd); // releases the lock
      const trash = this.trash.splice(0);
      for (const d of trash) rmSync(d, { recursive: true, force: true });
    }
  }

  private mustHold(what: string): void {
    if (!this.held) throw new Error(`Store.${what} needs the store lock (Store.locked)`);
  }

  layer(diffId: string): string {
    const hex = sha256Hex(diffId);
    if (!hex) throw new TypeError(`not a sha256 digest: ${diffId}`);
    return join(this.dir, 'layers', 'sha256', hex);
  }
  layerIds(): string[] {
    return ls(join(this.dir, 'layers', 'sha256')).filter((h) => HEX.test(h)).map((h) => `sha256:${h}`);
  }
  get tmp(): string {
    return join(this.dir, 'tmp');
  }
  container(id: string): string {
    return join(this.dir, 'containers', id);
  }
  containerIds(): string[] {
    return ls(join(this.dir, 'containers'));
  }

  /** Bytes of a stored layer's tar, as recorded when it was unpacked (0 if unknown). */
  layerSize(diffId: string): number {
    try {
      return (JSON.parse(readFileSync(`${this.layer(diffId)}.json`, 'utf8')) as { size: number }).size;
    } catch {
      return 0;
    }
  }
  recordLayer(diffId: string, size: number): void {
    writeAtomic(`${this.layer(diffId)}.json`, JSON.stringify({ size }) + '\n');
  }

  /** The container rootfs records: which image and layers each uses. */
  containers(): ContainerRecord[] {
    return this.containerIds()
      .map((id) => {
        try {
          return JSON.parse(readFileSync(join(this.container(id), 'image.json'), 'utf8')) as ContainerRecord;
        } catch {
          return undefined;
        }
      })
      .filter((r): r is ContainerRecord => !!r);
  }

  /** The layers pinned by imports still running (in this process or a live one). */
  pinned(): Set<string> {
    const out = new Set<string>();
    for (const n of ls(this.tmp)) {
      const pid = Number(/^pin-(\d+)-.*\.json$/.exec(n)?.[1]);
      if (!pid || !alive(pid)) continue;
      try {
        for (const id of JSON.parse(readFileSync(join(this.tmp, n), 'utf8')) as string[]) out.add(id);
      } catch {
        // written atomically: a file that cannot be read is being removed
      }
    }
    return out;
  }

  /**
   * Removes those of `candidates` that no image, container or running import
   * uses. Under the lock: each is renamed into tmp/ at once and deleted when
   * the lock is released.
   */
  collect(candidates: string[]): string[] {
    this.mustHold('collect');
    const used = this.pinned();
    for (const r of this.images()) for (const l of r.layers) used.add(l.diffId);
    for (const c of this.containers()) for (const l of c.layers) used.add(l);
    const removed: string[] = [];
    for (const id of new Set(candidates)) {
      if (used.has(id)) continue;
      const gone = join(this.tmp, `gc-${process.pid}-${Math.random().toString(36).slice(2)}`);
      mkdirSync(this.tmp, { recursive: true });
      try {
        renameSync(this.layer(id), gone);
        this.trash.push(gone);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      }
      rmSync(`${this.layer(id)}.json`, { force: true });
      removed.push(id);
    }
    return removed;
  }

  private imageFile(name: string): string {
    return join(this.dir, 'images', `${encodeURIComponent(name)}.json`);
  }
  readImage(name: string): ImageRecord | undefined {
    try {
      return JSON.parse(readFileSync(this.imageFile(name), 'utf8')) as ImageRecord;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
  }
  writeImage(rec: ImageRecord): void {
    writeAtomic(this.imageFile(rec.name), JSON.stringify(rec, null, 2) + '\n');
  }
  removeImage(name: string): void {
    rmSync(this.imageFile(name), { force: true });
  }
  images(): ImageRecord[] {
    return ls(join(this.dir, 'images'))
      .filter((f) => f.endsWith('.json'))
      .map((f) => this.readImage(decodeURIComponent(f.slice(0, -5))))
      .filter((r): r is ImageRecord => !!r);
  }
}

/**
 * The layers one import has found in the store or added to it, recorded in
 * tmp/pin-<pid>-*.json so that no other process removes them before the
 * image record that names them is written. Changed under the lock only.
 */
export class Pin {
  private ids = new Set<string>();
  private file?: string;
  constructor(private store: Store) {}
  add(id: string): void {
    if (this.ids.has(id)) return;
    this.ids.add(id);
    this.file ??= join(this.store.tmp, `pin-${process.pid}-${Math.random().toString(36).slice(2)}.json`);
    writeAtomic(this.file, JSON.stringify([...this.ids]));
  }
  release(): void {
    if (this.file) rmSync(this.file, { force: true });
    this.file = undefined;
    this.ids.clear();
  }
}

export function alive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function ls(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** Writes a file whole or not at all (temp file + rename). */
export function writeAtomic(file: string, data: string): void {
  mkdirSync(join(file, '..'), { recursive: true });
  const tmp = `${file}.tmp.${process.pid}.${Math.random().toString(36).slice(2)}`;
  writeFileSync(tmp, data, { mode: 0o644 });
  renameSync(tmp, file);
}
