// An image config → a container spec, as the OCI image spec's "conversion"
// document says: args = Entrypoint + Cmd, Env merged over the defaults,
// WorkingDir → cwd, User → uid/gid (names looked up in the image's
// /etc/passwd and /etc/group), ExposedPorts, StopSignal and Labels →
// annotations. Volumes become the bind mounts imageRootfs() made for them
// (an anonymous volume per container, filled from the image: volumes.ts).
import { lstatSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultSpec } from '../spec/defaults.js';
import type { Spec } from '../spec/types.js';
import { imageError } from './errors.js';
import { Store, type StoreOptions } from './store.js';
import type { PreparedRootfs } from './rootfs.js';
import type { ImageRecord } from './types.js';

export interface ImageSpecOptions extends StoreOptions {
  /**
   * What imageRootfs() made (its path is root.path, its volume mounts are
   * added), or just a path: then the image's Volumes are not mounted.
   */
  rootfs: string | PreparedRootfs;
  /** Replaces the image's Cmd (as `docker run IMAGE args...`). */
  args?: string[];
  /** Replaces the Entrypoint too. */
  entrypoint?: string[];
  /** More environment, over the image's. */
  env?: string[];
  readonly?: boolean;
}

/** NAME=value lists merged by name, later ones winning. */
export function mergeEnv(...lists: (string[] | undefined)[]): string[] {
  const m = new Map<string, string>();
  for (const l of lists) for (const e of l ?? []) m.set(e.split('=')[0]!, e);
  return [...m.values()];
}

/** A file of the image, topmost layer first; never through a symlink (it could point at the host). */
function imageFile(store: Store, rec: ImageRecord, rel: string[]): string | undefined {
  for (const l of [...rec.layers].reverse()) {
    let p = store.layer(l.diffId);
    let ok = true;
    for (const part of rel) {
      p = join(p, part);
      const st = lstatSync(p, { throwIfNoEntry: false });
      if (!st || st.isSymbolicLink() || (st.isCharacterDevice() && st.rdev === 0)) {
        ok = false;
        break;
      }
    }
    if (ok && lstatSync(p).isFile()) return readFileSync(p, 'utf8');
  }
  return undefined;
}

function lookup(text: string | undefined, name: string): string[] | undefined {
  return text?.split('\n').map((l) => l.split(':')).find((f) => f[0] === name);
}

/** "user", "uid", "user:group", "uid:gid" → numeric ids. */
export function resolveUser(user: string | undefined, files: { passwd?: string; group?: string }): { uid: number; gid: number } {
  if (!user) return { uid: 0, gid: 0 };
  const [u, g] = user.split(':') as [string, string | undefined];
  let uid: number;
  let gid = 0;
  if (/^\d+$/.test(u)) {
    uid = Number(u);
    const pw = files.passwd?.split('\n').map((l) => l.split(':')).find((f) => f[2] === u);
    if (pw) gid = Number(pw[3]);
  } else {
    const pw = lookup(files.passwd, u);
    if (!pw) throw imageError('ENOENT', `user ${JSON.stringify(u)} is not in the image's /etc/passwd`, { step: 'image config' });
    uid = Number(pw[2]);
    gid = Number(pw[3]);
  }
  if (g !== undefined) {
    if (/^\d+$/.test(g)) gid = Number(g);
    else {
      const gr = lookup(files.group, g);
      if (!gr) throw imageError('ENOENT', `group ${JSON.stringify(g)} is not in the image's /etc/group`, { step: 'image config' });
      gid = Number(gr[2]);
    }
  }
  return { uid, gid };
}

/** runc's default spec, running the image's process on `rootfs`. */
export function imageSpec(rec: ImageRecord, opts: ImageSpecOptions): Spec {
  const c = rec.config;
  const s = defaultSpec();
  const entry = opts.entrypoint ?? c.Entrypoint ?? [];
  const args = [...entry, ...(opts.args ?? (opts.entrypoint ? [] : (c.Cmd ?? [])))];
  if (!args.length) throw imageError('EINVAL', `image ${rec.name} has no Entrypoint or Cmd: give args`, { step: 'image config' });
  const store = new Store(opts);
  const needsFiles = !!c.User && !/^\d+(:\d+)?$/.test(c.User);
  const files = needsFiles
    ? { passwd: imageFile(store, rec, ['etc', 'passwd']), group: imageFile(store, rec, ['etc', 'group']) }
    : {};
  const p = s.process!;
  p.terminal = false;
  p.args = args;
  p.env = mergeEnv(p.env, c.Env, opts.env);
  p.cwd = c.WorkingDir || '/';
  p.user = resolveUser(c.User, files);
  const root = typeof opts.rootfs === 'string' ? { path: opts.rootfs, mounts: [] } : opts.rootfs;
  s.root = { path: root.path, readonly: opts.readonly ?? false };
  s.mounts = [...(s.mounts ?? []), ...root.mounts];
  if ('userns' in root && root.userns) {
    // The user namespace the rootfs was made for (its volumes are owned through these maps).
    const linux = (s.linux ??= {});
    if (!linux.namespaces?.some((n) => n.type === 'user')) (linux.namespaces ??= []).push({ type: 'user' });
    linux.uidMappings = structuredClone(root.userns.uidMappings);
    linux.gidMappings = structuredClone(root.userns.gidMappings);
  }
  const ann: Record<string, string> = { ...(c.Labels ?? {}) };
  if (c.ExposedPorts) ann['org.opencontainers.image.exposedPorts'] = Object.keys(c.ExposedPorts).join(',');
  if (c.StopSignal) ann['org.opencontainers.image.stopSignal'] = c.StopSignal;
  ann['org.opencontainers.image.ref.name'] = rec.name;
  s.annotations = { ...(s.annotations ?? {}), ...ann };
  return s;
}
