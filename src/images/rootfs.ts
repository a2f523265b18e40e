// A container's root on an image: containers/<id>/ holds rootfs/ (the mount
// point), upper/ and work/ (its changes) and image.json (which image and
// layers it uses, so that images.remove refuses while it exists). The
// overlay itself is mounted by the container (src/mounts/overlay.ts).
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { OverlayRootfs } from '../mounts/overlay.js';
import type { IDMapping, Mount } from '../spec/types.js';
import { imageError } from './errors.js';
import { Store, type ContainerRecord, type StoreOptions } from './store.js';
import { prepareVolumes } from './volumes.js';

export interface RootfsOptions extends StoreOptions {
  /** The container's id (the directory's name). */
  id: string;
  /** No upper layer: the root cannot be written. */
  readonly?: boolean;
  /**
   * The image's Volumes each get an anonymous volume, filled from the image
   * and removed with the container; name one here (destination → volume
   * name) to back it with a named volume instead, kept after the container.
   */
  volumes?: Record<string, string>;
  /**
   * The container gets a user namespace with these maps (images.spec() adds
   * it): the image's volumes are filled owned by the mapped host ids. The
   * layers need no change (they are idmapped when mounted).
   */
  uidMappings?: IDMapping[];
  gidMappings?: IDMapping[];
}

export interface PreparedRootfs {
  /** Mount point: the spec's root.path. */
  path: string;
  /** Pass as create({ overlay }). */
  overlay: OverlayRootfs;
  /** Bind mounts of the image's Volumes; images.spec() adds them to the spec. */
  mounts: Mount[];
  /** The user namespace maps given, for images.spec(). */
  userns?: { uidMappings: IDMapping[]; gidMappings: IDMapping[] };
}

const ID = /^[A-Za-z0-9][A-Za-z0-9_.+-]{0,1023}$/;

/** Under the store lock: the record goes first, then the layers nobody else uses; the directory after the lock. */
function release(store: Store, dir: string, rec: ContainerRecord): void {
  store.locked(() => {
    rmSync(join(dir, 'image.json'), { force: true });
    store.collect(rec.layers); // kept while an image (or another container) has them
  });
  rmSync(dir, { recursive: true, force: true });
}

function prepare(store: Store, opts: RootfsOptions, lower: string[], rec: ContainerRecord): PreparedRootfs {
  if (!ID.test(opts.id)) throw imageError('EINVAL', `invalid container id ${JSON.stringify(opts.id)}`, { step: 'prepare rootfs' });
  const dir = store.container(opts.id);
  mkdirSync(join(dir, '..'), { recursive: true, mode: 0o711 });
  try {
    // 0711: a container with a user namespace (its root is not the host's) walks through to rootfs/.
    mkdirSync(dir, 0o711); // one of two processes asking for the same id wins
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    throw imageError('EEXIST', 'a container with this id has a rootfs already', { path: dir, step: 'prepare rootfs' });
  }
  try {
    mkdirSync(join(dir, 'rootfs'), 0o711);
    return made(store, opts, dir, lower, rec);
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}

function made(store: Store, opts: RootfsOptions, dir: string, lower: string[], rec: ContainerRecord): PreparedRootfs {
  const overlay: OverlayRootfs = { lower, release: () => release(store, dir, rec) };
  if (!opts.readonly) {
    mkdirSync(join(dir, 'upper'), { mode: 0o755 });
    mkdirSync(join(dir, 'work'), { mode: 0o700 });
    overlay.upper = join(dir, 'upper');
    overlay.work = join(dir, 'work');
  }
  writeFileSync(join(dir, 'image.json'), JSON.stringify(rec) + '\n');
  const root: PreparedRootfs = { path: join(dir, 'rootfs'), overlay, mounts: [] };
  if (!!opts.uidMappings !== !!opts.gidMappings)
    throw imageError('EINVAL', `${opts.uidMappings ? 'gidMappings' : 'uidMappings'}: a user namespace needs both uidMappings and gidMappings`, { step: 'prepare rootfs' });
  if (opts.uidMappings && opts.gidMappings) root.userns = { uidMappings: opts.uidMappings, gidMappings: opts.gidMappings };
  return root;
}

/** The overlay root of a new container on image `name`. */
export function imageRootfs(name: string, opts: RootfsOptions): PreparedRootfs {
  const store = new Store(opts);
  // The image read, its layers checked and the container's record written in
  // one section: a concurrent remove sees the container, or this sees no image.
  const { root, image } = store.locked(() => {
    const rec = store.readImage(name);
    if (!rec) throw imageError('ENOENT', `no image named ${JSON.stringify(name)}`, { step: 'prepare rootfs' });
    const layers = rec.layers.map((l) => l.diffId);
    for (const l of layers)
      if (!existsSync(store.layer(l))) throw imageError('ENOENT', `layer ${l} of ${name} is missing from the store`, { step: 'prepare rootfs' });
    // Top first, as overlayfs wants them. A layer listed twice keeps only its
    // upper place: the lower copy could change nothing the upper one does not
    // restore, and overlayfs refuses one directory twice.
    const lower = [...new Set(layers.map((l) => store.layer(l)).reverse())];
    return { root: prepare(store, opts, lower, { id: opts.id, image: name, layers }), image: rec };
  });
  // The record keeps the layers: volumes are filled outside the lock.
  try {
    const dir = store.container(opts.id);
    const { mounts, missing } = prepareVolumes(image, root.overlay.lower, dir, { ...opts, named: opts.volumes, dataDir: store.dir });
    root.mounts = mounts;
    // A read-only root cannot get new mount points: they come as one more lower layer, on top.
    if (opts.readonly && missing.length) {
      for (const m of missing) mkdirSync(join(dir, 'mountpoints', m), { recursive: true, mode: 0o755 });
      root.overlay.lower.unshift(join(dir, 'mountpoints'));
    }
  } catch (e) {
    root.overlay.release!();
    throw e;
  }
  return root;
}

/** An overlay over a plain directory: the container's changes are thrown away with it (nspawn's --ephemeral). */
export function ephemeralRootfs(dir: string, opts: RootfsOptions): PreparedRootfs {
  return prepare(new Store(opts), opts, [dir], { id: opts.id, layers: [] });
}
