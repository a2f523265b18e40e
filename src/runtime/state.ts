// Container state under a root directory (default /run/berth): one
// directory per container, state.json written atomically (temp + rename),
// a lock file for verbs that change it, and the process's start time to
// tell our process from a recycled pid.
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { native } from '../native.js';
import type { NamespaceType, Spec } from '../spec/types.js';
import { BerthError } from './errors.js';

export const DEFAULT_ROOT = '/run/berth';

export type OciStatus = 'creating' | 'created' | 'running' | 'paused' | 'stopped';

export interface StateRecord {
  id: string;
  pid: number;
  /** Field 22 of /proc/<pid>/stat when the container was created. */
  startTime: string;
  bundle: string;
  rootfs: string;
  created: string;
  owner: string;
  annotations: Record<string, string>;
  namespaces: NamespaceType[];
  /** The container's cgroup, relative to each hierarchy's root. */
  cgroupPath: string;
  /** sd_notify proxy (NOTIFY_SOCKET was set for create). */
  notify?: { host: string; socket: string };
  spec: Spec;
}

/** The OCI state JSON (`berth state`). */
export interface OciState {
  ociVersion: string;
  id: string;
  status: OciStatus;
  pid: number;
  bundle: string;
  rootfs: string;
  created: string;
  owner: string;
  annotations?: Record<string, string>;
}

export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

export class StateStore {
  constructor(readonly root: string = DEFAULT_ROOT) {}

  dir(id: string): string {
    return join(this.root, id);
  }

  fifo(id: string): string {
    return join(this.dir(id), 'exec.fifo');
  }

  /** Makes the container's directory; fails with EEXIST if it is taken. */
  create(id: string): void {
    mkdirSync(this.root, { recursive: true, mode: 0o711 });
    try {
      mkdirSync(this.dir(id), { mode: 0o711 });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST')
        throw new BerthError(`container with id ${id} already exists`, { code: 'EEXIST', step: 'create', containerId: id, path: this.dir(id) });
      throw e;
    }
  }

  write(rec: StateRecord): void {
    const file = join(this.dir(rec.id), 'state.json');
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(rec));
    renameSync(tmp, file);
  }

  exists(id: string): boolean {
    return existsSync(join(this.dir(id), 'state.json'));
  }

  read(id: string): StateRecord {
    try {
      return JSON.parse(readFileSync(join(this.dir(id), 'state.json'), 'utf8')) as StateRecord;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT')
        throw new BerthError(`container ${id} does not exist`, { code: 'ENOENT', step: 'state', containerId: id });
      throw e;
    }
  }

  remove(id: string): void {
    rmSync(this.dir(id), { recursive: true, force: true });
  }

  list(): string[] {
    if (!existsSync(this.root)) return [];
    return readdirSync(this.root).filter((id) => this.exists(id)).sort();
  }

  /** Runs fn (sync or async) with the container's lock held: verbs on one container run one at a time. */
  async locked<T>(id: string, fn: () => T | Promise<T>): Promise<T> {
    const fd = openSync(join(this.dir(id), 'lock'), 'a');
    try {
      native().flock(fd, true, true);
      return await fn();
    } finally {
      closeSync(fd);
    }
  }

  /** created / running / stopped, from the process and the exec fifo. */
  status(rec: StateRecord): OciStatus {
    if (!rec.pid || processStartTime(rec.pid) !== rec.startTime) return 'stopped';
    try {
      const stat = readFileSync(`/proc/${rec.pid}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2)[0] === 'Z') return 'stopped';
    } catch {
      return 'stopped';
    }
    return existsSync(this.fifo(rec.id)) ? 'created' : 'running';
  }

  ociState(rec: StateRecord): OciState {
    const status = this.status(rec);
    return {
      ociVersion: rec.spec.ociVersion,
      id: rec.id,
      status,
      pid: status === 'stopped' ? 0 : rec.pid,
      bundle: rec.bundle,
      rootfs: rec.rootfs,
      created: rec.created,
      owner: rec.owner,
      annotations: rec.annotations,
    };
  }
}
