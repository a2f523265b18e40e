// The one interface both cgroup versions implement (v1/driver.ts,
// v2/driver.ts); index.ts picks one by probing the host.
import type { Device, Resources } from '../spec/types.js';
import type { Stats } from './stats.js';

export interface CgroupConfig {
  /** The container's cgroup, relative to each hierarchy's root: "berth/<id>", "libpod_parent/libpod-<id>". */
  path: string;
  /** linux.resources. */
  resources?: Resources;
  /** linux.devices: each is allowed in the device policy, as runc does. */
  devices?: Device[];
  /** Prefix of the field names in errors (default "linux.resources"). */
  field?: string;
}

export interface OomEvent {
  type: 'oom';
  /** OOM kills counted so far (v2 memory.events oom_kill; v1 memory.oom_control oom_kill). */
  oomKills: number;
}

export type FreezerState = 'thawed' | 'freezing' | 'frozen';

export interface CgroupDriver {
  readonly version: 1 | 2;
  /** As in the config. */
  readonly path: string;
  /**
   * Makes the cgroup and any missing parents (v2: with the parents'
   * controllers enabled), then applies the resources. On failure removes
   * what it made and throws an error naming the field.
   */
  create(): Promise<void>;
  /** Moves a process (host pid) into the cgroup, in every hierarchy. */
  addProcess(pid: number): Promise<void>;
  /**
   * v2 only: an fd (close-on-exec) of the cgroup's directory, for
   * clone3(CLONE_INTO_CGROUP), so that the container's process is created in
   * it. The caller closes it. (v1 has one directory per hierarchy: a process
   * joins them through addProcess.)
   */
  openDir?(): number;
  /**
   * Changes resources while the container runs. Only the parts given are
   * written; values left out keep their current settings (e.g. swap when only
   * the memory limit changes). With memory.checkBeforeUpdate, a limit below the
   * current usage is refused.
   */
  update(resources: Resources): Promise<void>;
  stats(): Promise<Stats>;
  /** Freezes every process; if that does not complete within timeoutMs, thaws again and throws ETIMEDOUT. */
  freeze(timeoutMs?: number): Promise<void>;
  thaw(): Promise<void>;
  freezerState(): Promise<FreezerState>;
  /** Host pids of every process in the cgroup and the cgroups below it. */
  pids(): Promise<number[]>;
  /** SIGKILLs every process, including those in nested cgroups, and waits until they are gone (or timeoutMs). */
  killAll(timeoutMs?: number): Promise<void>;
  /** Kills what is left, then removes the cgroup and every cgroup below it. Done twice is fine. */
  destroy(): Promise<void>;
  /** OOM kills so far. */
  oomKills(): Promise<number>;
  /** One event per OOM kill, until the signal aborts or the cgroup is removed. */
  oomEvents(signal?: AbortSignal): AsyncIterableIterator<OomEvent>;
}
