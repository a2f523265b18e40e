// The cgroup v2 driver: one directory, controllers enabled in the parents'
// cgroup.subtree_control, device policy as eBPF, freezer and kill through
// cgroup.freeze and cgroup.kill, change notification through inotify.
import { constants, openSync, watch } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import type { Resources } from '../../spec/types.js';
import { Files, type Controller } from '../controller.js';
import { cpuset } from '../cpuset.js';
import type { CgroupConfig, CgroupDriver, FreezerState, OomEvent } from '../driver.js';
import { badValue, busyError, freezeTimeout, fsError, killTimeout, selfError } from '../errors.js';
import { exists, mkdirs, parseKeyed, procsBelow, readKeyed, readText, removeDir, removeTree, sleep, writeValue } from '../fs.js';
import { mergeResources, pickResources, refuseBelowUsage } from '../merge.js';
import { pids as pidsController } from '../pids.js';
import { EventQueue } from '../queue.js';
import { rdma } from '../rdma.js';
import { emptyStats, type Stats } from '../stats.js';
import { checkCgroupValues } from '../validate.js';
import { cpu } from './cpu.js';
import { devices } from './devices.js';
import { hugetlb } from './hugetlb.js';
import { io } from './io.js';
import { memory } from './memory.js';

const STEP = 'apply cgroup resources';
const words = (t: string | undefined) => (t ?? '').trim().split(/\s+/).filter(Boolean);

/**
 * Resolves true once `test()` holds, false after timeoutMs. Woken by inotify
 * on `file` (cgroup.events and memory.events notify on change), with a slow
 * poll as a safety net.
 */
function waitFor(file: string, test: () => boolean, timeoutMs: number): Promise<boolean> {
  if (test()) return Promise.resolve(true);
  return new Promise((resolve) => {
    let w: ReturnType<typeof watch> | undefined;
    const done = (ok: boolean) => {
      clearTimeout(timer);
      clearInterval(poll);
      w?.close();
      resolve(ok);
    };
    const check = () => {
      try {
        if (test()) done(true);
      } catch {
        done(false);
      }
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    const poll = setInterval(check, 50);
    try {
      w = watch(file, { persistent: false }, check);
      w.on('error', () => {});
    } catch {
      // no inotify for this file: the poll does it
    }
    check();
  });
}

export class V2Driver implements CgroupDriver {
  readonly version = 2;
  readonly path: string;
  private dir: string;
  private controllers: Controller[];
  private applied: Resources;
  private prefix: string;

  constructor(private root: string, cfg: CgroupConfig) {
    this.path = cfg.path;
    this.dir = join(root, cfg.path);
    this.applied = cfg.resources ?? {};
    this.prefix = cfg.field ?? 'linux.resources';
    this.controllers = [cpuset, devices(cfg.devices), memory, cpu, pidsController, io, hugetlb, rdma];
  }

  private files(step = STEP): Files {
    return new Files(this.dir, this.prefix, step);
  }

  private event(key: string): number {
    return readKeyed(join(this.dir, 'cgroup.events'))[key] ?? 0;
  }

  async create(): Promise<void> {
    const made = mkdirs(this.dir, 'create cgroup', 'linux.cgroupsPath');
    try {
      this.enableControllers();
      const busy = procsBelow(this.dir);
      if (busy.length) throw busyError(this.path, busy);
      this.check(this.applied);
      this.apply(this.applied);
    } catch (e) {
      for (const d of made.reverse()) removeDir(d, 'remove cgroup');
      throw e;
    }
  }

  /**
   * Enables in each parent, below the root, every controller it has, so the
   * container's cgroup gets them all (as runc does). The root's own
   * subtree_control belongs to the machine: berth only reads it.
   */
  private enableControllers() {
    const parents: string[] = [];
    for (let d = dirname(this.dir); relative(this.root, d) !== '' && !relative(this.root, d).startsWith('..'); d = dirname(d)) parents.unshift(d);
    for (const d of parents) {
      const file = join(d, 'cgroup.subtree_control');
      const have = new Set(words(readText(file)));
      const want = words(readText(join(d, 'cgroup.controllers'))).filter((c) => !have.has(c));
      if (!want.length) continue;
      try {
        writeValue(file, want.map((c) => `+${c}`).join(' '), 'linux.cgroupsPath', 'create cgroup');
      } catch {
        // One at a time: a parent with processes of its own refuses some (v2 has no internal processes).
        for (const c of want) {
          try {
            writeValue(file, `+${c}`, 'linux.cgroupsPath', 'create cgroup');
          } catch {
            // check() names the field that needed it
          }
        }
      }
    }
  }

  private available(): Set<string> {
    return new Set(words(readText(join(this.dir, 'cgroup.controllers'))));
  }

  private check(r: Resources) {
    checkCgroupValues(r, this.prefix, STEP);
    const have = this.available();
    for (const c of this.controllers) {
      const field = c.fieldsSet(r)[0];
      if (field && c.name !== 'devices' && !have.has(c.name))
        throw badValue(`${this.prefix}.${field}`, `the ${c.name} controller is not enabled for ${this.path} (see cgroup.subtree_control of its parent)`, STEP);
    }
    if (r.network?.classID !== undefined) throw badValue(`${this.prefix}.network.classID`, 'cgroup v2 has no net_cls controller', STEP);
    if (r.network?.priorities?.length) throw badValue(`${this.prefix}.network.priorities`, 'cgroup v2 has no net_prio controller', STEP);
  }

  private apply(r: Resources, step = STEP) {
    const f = this.files(step);
    for (const c of this.controllers) c.set(f, r);
    // Raw keys last, so they win over what the fields above wrote.
    for (const [k, v] of Object.entries(r.unified ?? {}))
      f.write(k, v, `unified[${JSON.stringify(k)}]`, (code) =>
        code === 'ENOENT' ? `no such file: is the ${k.split('.')[0]} controller enabled for this cgroup?` : undefined,
      );
  }

  async addProcess(pid: number): Promise<void> {
    writeValue(join(this.dir, 'cgroup.procs'), String(pid), undefined, 'join cgroup');
  }

  openDir(): number {
    try {
      return openSync(this.dir, constants.O_RDONLY | constants.O_DIRECTORY); // libuv adds O_CLOEXEC
    } catch (e) {
      throw fsError(e, 'join cgroup');
    }
  }

  async update(partial: Resources): Promise<void> {
    const step = 'update cgroup resources';
    const merged = mergeResources(this.applied, partial);
    this.check(merged);
    refuseBelowUsage(partial, merged, () => this.files().number('memory.current') ?? 0, this.prefix, step);
    this.apply(pickResources(merged, partial), step);
    this.applied = merged;
  }

  async stats(): Promise<Stats> {
    const s = emptyStats();
    const f = this.files('read cgroup stats');
    for (const c of this.controllers) c.stats?.(f, s);
    return s;
  }

  async freeze(timeoutMs = 5000): Promise<void> {
    const f = this.files('pause');
    if (procsBelow(this.dir).includes(process.pid)) throw selfError(this.path, 'pause');
    f.write('cgroup.freeze', '1', 'cgroup.freeze');
    if (await waitFor(f.path('cgroup.events'), () => this.event('frozen') === 1, timeoutMs)) return;
    f.write('cgroup.freeze', '0', 'cgroup.freeze');
    throw freezeTimeout(this.path, timeoutMs, f.path('cgroup.freeze'));
  }

  async thaw(): Promise<void> {
    this.files('resume').write('cgroup.freeze', '0', 'cgroup.freeze');
  }

  async freezerState(): Promise<FreezerState> {
    if (this.event('frozen') === 1) return 'frozen';
    return readText(join(this.dir, 'cgroup.freeze'))?.trim() === '1' ? 'freezing' : 'thawed';
  }

  async pids(): Promise<number[]> {
    return procsBelow(this.dir);
  }

  async killAll(timeoutMs = 10_000): Promise<void> {
    if (!exists(this.dir)) return;
    const f = this.files('kill');
    if (procsBelow(this.dir).includes(process.pid)) throw selfError(this.path, 'kill');
    const populated = () => this.event('populated') === 1;
    if (f.has('cgroup.kill')) {
      // One write kills the whole subtree, frozen or not, with no fork race.
      if (populated()) f.write('cgroup.kill', '1', 'cgroup.kill');
    } else {
      for (let i = 0; populated() && i < 100; i++) {
        await this.freeze(1000).catch(() => {});
        for (const pid of procsBelow(this.dir)) {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            // gone already
          }
        }
        await this.thaw();
        await sleep(10);
      }
    }
    if (!(await waitFor(f.path('cgroup.events'), () => !populated(), timeoutMs)))
      throw killTimeout(this.path, procsBelow(this.dir), timeoutMs);
  }

  async destroy(): Promise<void> {
    if (!exists(this.dir)) return;
    await this.killAll();
    await removeTree(this.dir, 'remove cgroup');
  }

  async oomKills(): Promise<number> {
    return readKeyed(join(this.dir, 'memory.events')).oom_kill ?? 0;
  }

  /** v2: inotify on memory.events; one event per increase of oom_kill. */
  oomEvents(signal?: AbortSignal): AsyncIterableIterator<OomEvent> {
    const file = join(this.dir, 'memory.events');
    let seen = readKeyed(file).oom_kill ?? 0;
    const end = () => q.end();
    const w = watch(file, { persistent: false }, () => {
      const text = readText(file);
      if (text === undefined) return q.end();
      const kills = parseKeyed(text).oom_kill ?? 0;
      for (; seen < kills; seen++) q.push({ type: 'oom', oomKills: seen + 1 });
    });
    w.on('error', end);
    const q = new EventQueue<OomEvent>(() => {
      w.close();
      signal?.removeEventListener('abort', end);
    });
    if (signal?.aborted) q.end();
    else signal?.addEventListener('abort', end);
    return q;
  }
}
