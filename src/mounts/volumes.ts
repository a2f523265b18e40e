// Volumes as ordinary spec mounts: a tmpfs, a bind of a host path, and named
// volumes (directories under <data>/volumes/<name>) that outlive the
// containers that use them; several containers (a pod) may mount one.
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { DEFAULT_DATA_DIR } from '../images/store.js';
import type { Mount } from '../spec/types.js';

export type Propagation = 'private' | 'shared' | 'slave' | 'unbindable';

export interface TmpfsVolumeOptions {
  /** Bytes, or a tmpfs size string ("64m", "50%"). */
  size?: number | string;
  /** Mode of its root directory (default 01777, as /tmp). */
  mode?: number;
  readonly?: boolean;
  /** More mount options (noexec, uid=, gid=, ...). */
  options?: string[];
}

export function tmpfsVolume(destination: string, o: TmpfsVolumeOptions = {}): Mount {
  const options = ['nosuid', 'nodev', `mode=${(o.mode ?? 0o1777).toString(8)}`];
  if (o.size !== undefined) options.push(`size=${o.size}`);
  if (o.readonly) options.push('ro');
  return { destination, type: 'tmpfs', source: 'tmpfs', options: [...options, ...(o.options ?? [])] };
}

export interface BindVolumeOptions {
  readonly?: boolean;
  /** Propagation of the bind (default private); applied to the whole tree unless recursive is false. */
  propagation?: Propagation;
  /** rbind (default) or a plain bind of the top mount only. */
  recursive?: boolean;
  options?: string[];
}

export function bindVolume(source: string, destination: string, o: BindVolumeOptions = {}): Mount {
  if (!isAbsolute(source)) throw new TypeError(`a host path volume needs an absolute source: ${source}`);
  const rec = o.recursive ?? true;
  const prop = o.propagation ?? 'private';
  const options = [rec ? 'rbind' : 'bind', o.readonly ? 'ro' : 'rw', rec ? `r${prop}` : prop];
  // "ro" on an rbind only covers the top mount: make every submount read-only too.
  if (o.readonly && rec) options.push('rro');
  return { destination, type: 'bind', source, options: [...options, ...(o.options ?? [])] };
}

export interface NamedVolumeOptions extends BindVolumeOptions {
  /** berth's data directory (default /var/lib/berth). */
  dataDir?: string;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

function volumeDir(name: string, dataDir = DEFAULT_DATA_DIR): string {
  if (!NAME.test(name)) throw new TypeError(`invalid volume name ${JSON.stringify(name)}`);
  return join(dataDir, 'volumes', name);
}

/** A bind of <data>/volumes/<name>, created on first use and kept after the container. */
export function namedVolume(name: string, destination: string, o: NamedVolumeOptions = {}): Mount {
  const dir = volumeDir(name, o.dataDir);
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  return bindVolume(dir, destination, o);
}

export function listVolumes(o: { dataDir?: string } = {}): string[] {
  try {
    return readdirSync(join(o.dataDir ?? DEFAULT_DATA_DIR, 'volumes'));
  } catch {
    return [];
  }
}

export function removeVolume(name: string, o: { dataDir?: string } = {}): void {
  rmSync(volumeDir(name, o.dataDir), { recursive: true, force: true });
}
