// The cgroup v1 driver: one directory per hierarchy (cpu, memory, ...,
// name=systemd, and on a hybrid host the cgroup2 "unified" mount), each
// controller's files written by its own module.
import { closeSync, openSync, readdirSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { native } from '../../native.js';
import type { Resources } from '../../spec/types.js';
import { Files, type Controller } from '../controller.js';
import { cpuset, fillCpusets } from '../cpuset.js';
import type { CgroupConfig, CgroupDriver, FreezerState, OomEvent } from '../driver.js';
import { CgroupError, badValue, busyError, freezeTimeout, killTimeout, selfError } from '../errors.js';
import { exists, mkdirs, parseKeyed, procsBelow, readKeyed, readText, removeDir, removeTree, sleep, writeValue } from '../fs.js';
import { pids as pidsController } from '../pids.js';
import { EventQueue } from '../queue.js';
import { rdma } from '../rdma.js';
import { emptyStats, type Stats } from '../stats.js';
import { checkCgroupValues } from '../validate.js';
import { mergeResources, pickResources, refuseBelowUsage } from '../merge.js';
import { blkio } from './blkio.js';
import { cpu } from './cpu.js';
import { cpuacct } from './cpuacct.js';
import { devices } from './devices.js';
import { hugetlb } from './hugetlb.js';
import { memory } from './memory.js';
import { netCls, netPrio } from './net.js';

const KNOWN = new Set(['cpu', 'cpuacct', 'cpuset', 'memory', 'devices', 'freezer', 'net_cls', 'net_prio', 'blkio', 'perf_event', 'hugetlb', 'pids', 'rdma', 'misc']);

export interface Hierarchy {
  /** Its mount point. */
  mount: string;
  /** The controllers attached to it; empty for a named one (name=systemd) or the hybrid cgroup2 mount. */
  controllers: string[];
  /** The cgroup2 mount of a hybrid host. */
  unified: boolean;
}

/** The hierarchies mounted below root, one each (cpu and cpuacct may be links to "cpu,cpuacct"). */
export function v1Hierarchies(root: string): Hierarchy[] {
  const seen = new Set<string>();
  const out: Hierarchy[] = [];
  for (const name of readdirSync(root).sort()) {
    const mount = join(root, name);
    let real: string;
    try {
      real = realpathSync(mount);
    } catch {
      continue;
    }
    if (seen.has(real)) continue;
    seen.add(real);
    const base = real.slice(real.lastIndexOf('/') + 1);
    const unified = exists(join(real, 'cgroup.controllers'));
    const controllers = unified ? [] : base.split(',').filter((c) => KNOWN.has(c));
    if (!unified && !exists(join(real, 'cgroup.procs'))) continue;
    out.push({ mount: real, controllers, unified });
  }
  return out;
}

const STEP = 'apply cgroup resources';
const PRIMARY = ['pids', 'freezer', 'memory', 'devices', 'cpu'];

export class V1Driver implements CgroupDriver {
  readonly version = 1;
  readonly path: string;
  private hierarchies: Hierarchy[];
  private controllers: Controller[];
  private applied: Resources;
  private prefix: string;

  constructor(root: string, cfg: CgroupConfig) {
    this.path = cfg.path;
    this.hierarchies = v1Hierarchies(root);
    this.applied = cfg.resources ?? {};
    this.prefix = cfg.field ?? 'linux.resources';
    // The order runc writes them in.
    this.controllers = [cpuset, devices(cfg.devices), memory, cpu, cpuacct, pidsController, blkio, hugetlb, netCls, netPrio, rdma];
  }

  private hierarchy(controller: string): Hierarchy | undefined {
    return this.hierarchies.find((h) => h.controllers.includes(controller));
  }

  private dir(h: Hierarchy): string {
    return join(h.mount, this.path);
  }

  private files(controller: string, step = STEP): Files | undefined {
    const h = this.hierarchy(controller);
    return h && new Files(this.dir(h), this.prefix, step);
  }

  private need(controller: string, what: string): Files {
    const f = this.files(controller);
    if (!f) throw new CgroupError(`${what} needs the ${controller} cgroup controller, which is not mounted`, { code: 'ENOTSUP', step: what });
    return f;
  }

  async create(): Promise<void> {
    const r = this.applied;
    this.check(r);
    const made: string[] = [];
    try {
      for (const h of this.hierarchies) {
        const dirs = mkdirs(this.dir(h), 'create cgroup', 'linux.cgroupsPath');
        made.push(...dirs);
        // Every level from the top, not only the new ones: a parent made by someone else may be empty too.
        if (h.controllers.includes('cpuset'))
          fillCpusets(this.path.split('/').map((_, i, parts) => join(h.mount, ...parts.slice(0, i + 1))), 'create cgroup');
      }
      const busy = procsBelow(this.dir(this.primary()));
      if (busy.length) throw busyError(this.path, busy);
      this.apply(r);
    } catch (e) {
      for (const d of made.reverse()) removeDir(d, 'remove cgroup');
      throw e;
    }
  }

  /** Refuses what no write could do: bad ranges, controllers this host lacks. */
  private check(r: Resources) {
    checkCgroupValues(r, this.prefix, STEP);
    for (const c of this.controllers) {
      const field = c.fieldsSet(r)[0];
      if (field && !this.hierarchy(c.name)) throw badValue(`${this.prefix}.${field}`, `the ${c.name} cgroup controller is not mounted on this host`, STEP);
    }
    const unified = Object.keys(r.unified ?? {});
    if (unified.length && !this.hierarchies.some((h) => h.unified))
      throw badValue(`${this.prefix}.unified`, 'needs cgroup v2 (this host has v1 only)', STEP);
  }

  private apply(r: Resources, step = STEP) {
    for (const c of this.controllers) {
      const f = this.files(c.name, step);
      if (f) c.set(f, r);
    }
    // A hybrid host's cgroup2 mount takes the unified keys.
    const u = this.hierarchies.find((h) => h.unified);
    if (u) {
      const f = new Files(this.dir(u), this.prefix, step);
      for (const [k, v] of Object.entries(r.unified ?? {}))
        f.write(k, v, `unified[${JSON.stringify(k)}]`, (code) => (code === 'ENOENT' ? 'no such file in the cgroup2 hierarchy of this hybrid host' : undefined));
    }
  }

  async addProcess(pid: number): Promise<void> {
    for (const h of this.hierarchies) writeValue(join(this.dir(h), 'cgroup.procs'), String(pid), undefined, 'join cgroup');
  }

  async update(partial: Resources): Promise<void> {
    const step = 'update cgroup resources';
    const merged = mergeResources(this.applied, partial);
    this.check(merged);
    refuseBelowUsage(partial, merged, () => this.files('memory')?.number('memory.usage_in_bytes') ?? 0, this.prefix, step);
    this.apply(pickResources(merged, partial), step);
    this.applied = merged;
  }

  async stats(): Promise<Stats> {
    const s = emptyStats();
    for (const c of this.controllers) {
      const f = this.files(c.name, 'read cgroup stats');
      if (f && c.stats) c.stats(f, s);
    }
    return s;
  }

  async freeze(timeoutMs = 5000): Promise<void> {
    const f = this.need('freezer', 'pause');
    if (this.allPids().includes(process.pid)) throw selfError(this.path, 'pause');
    const start = Date.now();
    for (let wait = 1; ; wait = Math.min(wait * 2, 20)) {
      // Written again each time: a task that forked meanwhile is caught by the next write.
      f.write('freezer.state', 'FROZEN', 'freezer.state');
      if (f.read('freezer.state')?.trim() === 'FROZEN') return;
      if (Date.now() - start > timeoutMs) {
        f.write('freezer.state', 'THAWED', 'freezer.state');
        throw freezeTimeout(this.path, timeoutMs, f.path('freezer.state'));
      }
      await sleep(wait);
    }
  }

  async thaw(): Promise<void> {
    this.need('freezer', 'resume').write('freezer.state', 'THAWED', 'freezer.state');
  }

  async freezerState(): Promise<FreezerState> {
    const s = this.files('freezer')?.read('freezer.state')?.trim();
    return s === 'FROZEN' ? 'frozen' : s === 'FREEZING' ? 'freezing' : 'thawed';
  }

  private primary(): Hierarchy {
    for (const c of PRIMARY) {
      const h = this.hierarchy(c);
      if (h) return h;
    }
    return this.hierarchies[0]!;
  }

  /** Every hierarchy: a workload may have moved a process in one of them only. */
  private allPids(): number[] {
    return [...new Set(this.hierarchies.flatMap((h) => procsBelow(this.dir(h))))];
  }

  async pids(): Promise<number[]> {
    return procsBelow(this.dir(this.primary()));
  }

  async killAll(timeoutMs = 10_000): Promise<void> {
    const freezer = this.files('freezer');
    const start = Date.now();
    for (let wait = 1; ; wait = Math.min(wait * 2, 50)) {
      const pids = this.allPids();
      if (!pids.length) return;
      if (pids.includes(process.pid)) throw selfError(this.path, 'kill');
      if (Date.now() - start > timeoutMs)
        throw killTimeout(this.path, pids, timeoutMs);
      // Frozen, nobody forks between the listing and the kill; a frozen task dies once thawed.
      if (freezer) await this.freeze(1000).catch(() => {});
      for (const pid of freezer ? this.allPids() : pids) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone already
        }
      }
      if (freezer) await this.thaw();
      await sleep(wait);
    }
  }

  async destroy(): Promise<void> {
    if (!this.hierarchies.some((h) => exists(this.dir(h)))) return;
    await this.killAll();
    for (const h of this.hierarchies) await removeTree(this.dir(h), 'remove cgroup');
  }

  async oomKills(): Promise<number> {
    const f = this.files('memory');
    return (f && readKeyed(f.path('memory.oom_control')).oom_kill) ?? 0;
  }

  /** v1: an eventfd registered through cgroup.event_control for memory.oom_control. */
  oomEvents(signal?: AbortSignal): AsyncIterableIterator<OomEvent> {
    const f = this.need('memory', 'watch OOM events');
    const n = native();
    const efd = n.eventfd();
    let watch = 0;
    const q = new EventQueue<OomEvent>(() => {
      n.unwatchEventfd(watch);
      n.close(efd);
      signal?.removeEventListener('abort', end);
    });
    const end = () => q.end();
    try {
      const ofd = openSync(f.path('memory.oom_control'), 'r');
      try {
        writeValue(f.path('cgroup.event_control'), `${efd} ${ofd}`, undefined, 'watch OOM events');
      } finally {
        closeSync(ofd);
      }
    } catch (e) {
      n.close(efd);
      throw e;
    }
    // The kernel also signals the eventfd when the cgroup is removed.
    watch = n.watchEventfd(efd, () => {
      const text = readText(f.path('memory.oom_control'));
      if (text === undefined) return q.end();
      q.push({ type: 'oom', oomKills: parseKeyed(text).oom_kill ?? 0 });
    });
    if (signal?.aborted) q.end();
    else signal?.addEventListener('abort', end);
    return q;
  }
}
