// The image commands of the library: import, list, inspect, remove, and a
// container's root on an image. Every function takes { dataDir } (default
// /var/lib/berth).
//
//   const img = await images.import('busybox.tar', { name: 'busybox', onProgress });
//   const root = images.rootfs('busybox', { id: 'c1' });
//   const spec = images.spec(img, { rootfs: root });   // root.path, and the image's Volumes as mounts
//   await run({ spec, overlay: root.overlay });   // upper/work removed with the container
import { imageError } from './errors.js';
import { importImage } from './import.js';
import { Store, type StoreOptions } from './store.js';
import type { ImageRecord } from './types.js';

export { importImage as import, DEFAULT_LIMITS, type ImportOptions, type ImportProgress } from './import.js';
export { imageRootfs as rootfs, ephemeralRootfs as ephemeral, type RootfsOptions, type PreparedRootfs } from './rootfs.js';
export { imageSpec as spec, resolveUser, mergeEnv, type ImageSpecOptions } from './config.js';
export { DEFAULT_DATA_DIR, type StoreOptions } from './store.js';
export { tmpfsVolume, bindVolume, namedVolume, listVolumes, removeVolume } from '../mounts/volumes.js';
export type * from './types.js';

export function list(opts: StoreOptions = {}): ImageRecord[] {
  return new Store(opts).images().sort((a, b) => a.name.localeCompare(b.name));
}

export function inspect(name: string, opts: StoreOptions = {}): ImageRecord {
  const rec = new Store(opts).readImage(name);
  if (!rec) throw imageError('ENOENT', `no image named ${JSON.stringify(name)}`, { step: 'inspect image' });
  return rec;
}

/**
 * Removes an image, and the layers no other image or container uses.
 * Refused (EBUSY) while a container's rootfs is made of it, unless `force`
 * (for records left by a process that died): the layers such a container
 * still uses stay until it is gone.
 */
export function remove(name: string, opts: StoreOptions & { force?: boolean } = {}): { layersRemoved: string[] } {
  const store = new Store(opts);
  return store.locked(() => {
    const rec = store.readImage(name);
    if (!rec) throw imageError('ENOENT', `no image named ${JSON.stringify(name)}`, { step: 'remove image' });
    const users = store.containers().filter((c) => c.image === name).map((c) => c.id);
    if (users.length && !opts.force)
      throw imageError('EBUSY', `image ${JSON.stringify(name)} is in use by container ${users.join(', ')}`, { step: 'remove image' });
    store.removeImage(name);
    return { layersRemoved: store.collect(rec.layers.map((l) => l.diffId)) };
  });
}

export { importImage };
