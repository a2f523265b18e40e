// Where berth keeps images on disk (default /var/lib/berth):
//   layers/sha256/<hex>    one unpacked layer per diff id (sha256 of its tar); <hex>.json its size
//   images/<name>.json     image records (encodeURIComponent of the name)
//   containers/<id>/       a container's rootfs: upper/, work/, rootfs/ and image.json
//   volumes/<name>/        named volumes, outliving containers
//   tmp/                   half-made layers; renamed into layers/ when complete
import { mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
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

export class Store {
  readonly dir: string;
  constructor(opts: StoreOptions = {}) {
    this.dir = opts.dataDir ?? DEFAULT_DATA_DIR;
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

  /** Removes those of `candidates` that no image and no container uses. */
  collect(candidates: string[]): string[] {
    const used = new Set<string>();
    for (const r of this.images()) for (const l of r.layers) used.add(l.diffId);
    for (const c of this.containers()) for (const l of c.layers) used.add(l);
    const removed: string[] = [];
    for (const id of new Set(candidates)) {
      if (used.has(id)) continue;
      rmSync(this.layer(id), { recursive: true, force: true });
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
