// An image's Volumes ({"/data": {}}) as a container's mounts, the way
// docker and podman do it: each path gets an anonymous volume of its own
// per container (containers/<id>/volumes/<n>, removed with the container),
// filled at creation with what the image has at that path; or, when the
// caller names one, a named volume (volumes/<name>, kept), filled the same
// way if it is empty. The image's content is read from the layers as the
// overlay would show it (whiteouts hide, opaque directories stop the look
// further down), and never through a symlink.
import {
  copyFileSync, constants as C, lchownSync, lstatSync, lutimesSync, mkdirSync, readdirSync, readlinkSync, rmSync, symlinkSync,
  chmodSync, type Stats,
} from 'node:fs';
import { join, posix } from 'node:path';
import { bindVolume, namedVolume } from '../mounts/volumes.js';
import { native } from '../native.js';
import type { IDMapping, Mount } from '../spec/types.js';
import { imageError } from './errors.js';
import type { ImageRecord } from './types.js';

const step = 'prepare volumes';
const isWhiteout = (st: Stats) => st.isCharacterDevice() && st.rdev === 0;
const isOpaque = (dir: string) => native().lgetxattr(dir, 'trusted.overlay.opaque')?.toString() === 'y';

/** The directories (top first) that make up a merged directory, or the one non-directory, or nothing. */
type Node = { dirs: string[] } | { file: string; st: Stats } | undefined;

/** One name in a merged directory: looked up in each contributing layer directory, top first. */
function child(dirs: string[], name: string): Node {
  const found: string[] = [];
  for (const d of dirs) {
    const p = join(d, name);
    const st = lstatSync(p, { throwIfNoEntry: false });
    if (!st) continue;
    if (isWhiteout(st)) break;
    if (!st.isDirectory()) {
      if (!found.length) return { file: p, st };
      break; // a non-directory below a directory is hidden by it
    }
    found.push(p);
    if (isOpaque(p)) break;
  }
  return found.length ? { dirs: found } : undefined;
}

/** Image ids → the ids the files get on the host (through a user namespace's mapping). */
export type Shift = (id: number, kind: 'uid' | 'gid', path: string) => number;
const same: Shift = (id) => id;

/** The host id for a container id, as a user namespace maps it; an id outside the mapping is refused. */
export function shiftBy(uidMappings: IDMapping[], gidMappings: IDMapping[]): Shift {
  return (id, kind, path) => {
    for (const m of kind === 'uid' ? uidMappings : gidMappings)
      if (id >= m.containerID && id < m.containerID + m.size) return m.hostID + id - m.containerID;
    // A layer's file by its path in the image.
    const rel = /\/layers\/sha256\/[0-9a-f]{64}(\/.*)?$/.exec(path)?.[1] ?? (path.startsWith('/') ? path : '/');
    throw imageError('EINVAL', `${kind}Mappings: ${kind} ${id} of ${rel} is not mapped`, { step, hint: 'map that id too, or use a smaller image' });
  };
}

/** Copies one merged node to `to` (which does not exist): content, mode, owner, mtime. */
function copy(node: Exclude<Node, undefined>, to: string, shift: Shift): void {
  if ('dirs' in node) {
    mkdirSync(to, 0o700);
    return copyInto(node.dirs, to, shift);
  }
  const { file, st } = node;
  if (st.isFile()) copyFileSync(file, to, C.COPYFILE_EXCL | C.COPYFILE_FICLONE);
  else if (st.isSymbolicLink()) symlinkSync(readlinkSync(file), to);
  else native().mknod(to, st.mode, Math.floor(st.rdev / 256) & 0xfff, (st.rdev & 0xff) | (Math.floor(st.rdev / 4096) & 0xfff00));
  meta(to, st, !st.isSymbolicLink(), shift, file);
}

/** The merged directory `dirs` (top first) into the existing directory `to`, its metadata last. */
function copyInto(dirs: string[], to: string, shift: Shift): void {
  const names = new Set<string>();
  for (const d of dirs) for (const n of readdirSync(d)) names.add(n);
  for (const n of names) {
    const c = child(dirs, n);
    if (c) copy(c, join(to, n), shift);
  }
  meta(to, lstatSync(dirs[0]!), true, shift, dirs[0]!);
}

function meta(p: string, st: Stats, chmod: boolean, shift: Shift, from: string): void {
  lchownSync(p, shift(st.uid, 'uid', from), shift(st.gid, 'gid', from));
  if (chmod) chmodSync(p, st.mode & 0o7777); // after chown, which clears setuid bits
  lutimesSync(p, st.atime, st.mtime);
}

/** What the image has at `dest` ("/var/lib/x"): a merged directory, or nothing; anything else is refused. */
function lookup(lowers: string[], dest: string, field: string): { dirs: string[] } | undefined {
  let node: Node = { dirs: lowers };
  for (const part of dest.split('/').filter(Boolean)) {
    if (!node || !('dirs' in node)) break;
    node = child(node.dirs, part);
  }
  if (node && !('dirs' in node))
    throw imageError('ENOTDIR', `${field}: ${JSON.stringify(dest)} is not a directory in the image (or goes through a symlink)`, { step });
  return node;
}

/** The image's content at `dest` copied into `into` (an empty directory); an empty volume is the container root's. */
export function fillFromImage(lowers: string[], dest: string, into: string, field: string, shift: Shift = same): void {
  const node = lookup(lowers, dest, field);
  if (node) copyInto(node.dirs, into, shift);
  else lchownSync(into, shift(0, 'uid', dest), shift(0, 'gid', dest));
}

/** The image's Volumes, checked: absolute, normalised destinations, parents before children. */
export function imageVolumes(rec: ImageRecord): string[] {
  const out: string[] = [];
  for (const v of Object.keys(rec.config.Volumes ?? {})) {
    const field = `config.Volumes[${JSON.stringify(v)}]`;
    if (!v.startsWith('/')) throw imageError('EINVAL', `${field}: a volume path must be absolute`, { step });
    if (v.split('/').includes('..')) throw imageError('EINVAL', `${field}: a volume path must not contain ".."`, { step });
    const norm = posix.normalize(v).replace(/\/+$/, '');
    if (!norm) throw imageError('EINVAL', `${field}: a volume cannot be the root`, { step });
    if (!out.includes(norm)) out.push(norm);
  }
  return out.sort((a, b) => a.split('/').length - b.split('/').length || a.localeCompare(b));
}

export interface VolumeChoice {
  /** Destination → the name of a named volume that backs it instead of an anonymous one. */
  named?: Record<string, string>;
  dataDir?: string;
  /** The container's user namespace maps: the copies are owned by the mapped host ids. */
  uidMappings?: IDMapping[];
  gidMappings?: IDMapping[];
}

/**
 * Makes the volumes of an image for the container whose directory is `dir`:
 * bind mounts for its spec. Anonymous ones go under dir/volumes/ (removed
 * with it); a named one is filled only when it is new or empty, as docker does.
 */
export function prepareVolumes(rec: ImageRecord, lowers: string[], dir: string, o: VolumeChoice): { mounts: Mount[]; missing: string[] } {
  const dests = imageVolumes(rec);
  for (const d of Object.keys(o.named ?? {}))
    if (!dests.includes(posix.normalize(d).replace(/\/+$/, '')))
      throw imageError('EINVAL', `volumes[${JSON.stringify(d)}]: the image has no volume at this path`, { step, hint: `its volumes: ${dests.join(', ') || 'none'}` });
  const named = new Map(Object.entries(o.named ?? {}).map(([k, v]) => [posix.normalize(k).replace(/\/+$/, ''), v]));
  const mounts: Mount[] = [];
  /** Destinations the image has no directory at: a read-only root needs mount points made for them. */
  const missing: string[] = [];
  const shift = o.uidMappings && o.gidMappings ? shiftBy(o.uidMappings, o.gidMappings) : same;
  for (const [i, dest] of dests.entries()) {
    const field = `config.Volumes[${JSON.stringify(dest)}]`;
    const name = named.get(dest);
    if (name !== undefined) {
      let m: Mount;
      try {
        m = namedVolume(name, dest, { dataDir: o.dataDir });
      } catch (e) {
        throw imageError('EINVAL', `volumes[${JSON.stringify(dest)}]: ${(e as Error).message}`, { step });
      }
      if (!lookup(lowers, dest, field)) missing.push(dest);
      if (readdirSync(m.source!).length === 0) fillFromImage(lowers, dest, m.source!, field, shift);
      mounts.push(m);
      continue;
    }
    if (!lookup(lowers, dest, field)) missing.push(dest);
    const src = join(dir, 'volumes', String(i));
    mkdirSync(src, { recursive: true, mode: 0o755 });
    try {
      fillFromImage(lowers, dest, src, field, shift);
    } catch (e) {
      rmSync(src, { recursive: true, force: true });
      throw e;
    }
    mounts.push(bindVolume(src, dest));
  }
  return { mounts, missing };
}
