// A container's root on an image: containers/<id>/ holds rootfs/ (the mount
// point), upper/ and work/ (its changes) and image.json (which image and
// layers it uses, so that images.remove refuses while it exists). The
// overlay itself is mounted by the container (src/mounts/overlay.ts).
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { OverlayRootfs } from '../mounts/overlay.js';
import { imageError } from './errors.js';
import { Store, type ContainerRecord, type StoreOptions } from './store.js';

export interface RootfsOptions extends StoreOptions {
  /** The container's id (the directory's name). */
  id: string;
  /** No upper layer: the root cannot be written. */
  readonly?: boolean;
}

export interface PreparedRootfs {
  /** Mount point: the spec's root.path. */
  path: string;
  /** Pass as create({ overlay }). */
  overlay: OverlayRootfs;
}

const ID = /^[A-Za-z0-9][A-Za-z0-9_.+-]{0,1023}$/;

function prepare(store: Store, opts: RootfsOptions, lower: string[], rec: ContainerRecord): PreparedRootfs {
  if (!ID.test(opts.id)) throw imageError('EINVAL', `invalid container id ${JSON.stringify(opts.id)}`, { step: 'prepare rootfs' });
  const dir = store.container(opts.id);
  if (existsSync(dir)) throw imageError('EEXIST', 'a container with this id has a rootfs already', { path: dir, step: 'prepare rootfs' });
  mkdirSync(join(dir, 'rootfs'), { recursive: true, mode: 0o700 });
  const overlay: OverlayRootfs = { lower, release: () => rmSync(dir, { recursive: true, force: true }) };
  if (!opts.readonly) {
    mkdirSync(join(dir, 'upper'), { mode: 0o755 });
    mkdirSync(join(dir, 'work'), { mode: 0o700 });
    overlay.upper = join(dir, 'upper');
    overlay.work = join(dir, 'work');
  }
  writeFileSync(join(dir, 'image.json'), JSON.stringify(rec) + '\n');
  return { path: join(dir, 'rootfs'), overlay };
}

/** The overlay root of a new container on image `name`. */
export function imageRootfs(name: string, opts: RootfsOptions): PreparedRootfs {
  const store = new Store(opts);
  const rec = store.readImage(name);
  if (!rec) throw imageError('ENOENT', `no image named ${JSON.stringify(name)}`, { step: 'prepare rootfs' });
  const layers = rec.layers.map((l) => l.diffId);
  for (const l of layers)
    if (!existsSync(store.layer(l))) throw imageError('ENOENT', `layer ${l} of ${name} is missing from the store`, { step: 'prepare rootfs' });
  // Top first, as overlayfs wants them. A layer listed twice keeps only its
  // upper place: the lower copy could change nothing the upper one does not
  // restore, and overlayfs refuses one directory twice.
  const lower = [...new Set(layers.map((l) => store.layer(l)).reverse())];
  return prepare(store, opts, lower, { id: opts.id, image: name, layers });
}

/** An overlay over a plain directory: the container's changes are thrown away with it (nspawn's --ephemeral). */
export function ephemeralRootfs(dir: string, opts: RootfsOptions): PreparedRootfs {
  return prepare(new Store(opts), opts, [dir], { id: opts.id, layers: [] });
}
