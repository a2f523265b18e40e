// From nspawn-like options to an OCI spec: pure, so the tables are unit
// tested. The base is runc's defaults for a directory, or the image's spec.
import { ioWeightToBlkioWeight } from '../../cgroups/convert.js';
import { CAPABILITIES, RLIMITS } from '../../spec/defaults.js';
import type { Mount, Resources, Spec } from '../../spec/types.js';
import { UsageError } from '../oci/args.js';
import type { NspawnOptions } from './options.js';

const fail = (flag: string, why: string) => new UsageError(`--${flag}: ${why}`);

const SIZE = /^(\d+(?:\.\d+)?)([KMGTP]?)$/i;
const UNITS: Record<string, number> = { '': 1, K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40, P: 2 ** 50 };

/** systemd's sizes: 64M, 1.5G, infinity (-1). */
export function parseSize(name: string, v: string): number {
  if (v === 'infinity') return -1;
  const m = SIZE.exec(v);
  if (!m) throw fail('property', `${name}=${v}: want a size like 512K, 64M, 2G or infinity`);
  return Math.floor(Number(m[1]) * UNITS[m[2]!.toUpperCase()]!);
}

function int(name: string, v: string, lo: number, hi: number): number {
  if (!/^\d+$/.test(v) || Number(v) < lo || Number(v) > hi) throw fail('property', `${name}=${v}: want an integer from ${lo} to ${hi}`);
  return Number(v);
}

/** The systemd resource-control properties nspawn users pass with --property, as linux.resources. */
export function propertiesToResources(props: Record<string, string>): Resources | undefined {
  const r: Resources = {};
  const memory = () => (r.memory ??= {});
  const cpu = () => (r.cpu ??= {});
  for (const [name, v] of Object.entries(props)) {
    switch (name) {
      case 'MemoryMax':
      case 'MemoryLimit':
        memory().limit = parseSize(name, v);
        break;
      case 'MemoryLow':
        memory().reservation = parseSize(name, v);
        break;
      case 'MemorySwapMax':
        // OCI's swap is memory + swap; resolved against the limit below.
        memory().swap = parseSize(name, v);
        break;
      case 'CPUQuota': {
        const m = /^(\d+)%$/.exec(v);
        if (!m || Number(m[1]) < 1) throw fail('property', `CPUQuota=${v}: want a percentage of one CPU, like 20% or 150%`);
        cpu().period = 100_000;
        cpu().quota = Number(m[1]) * 1000;
        break;
      }
      case 'CPUWeight':
        // systemd's own mapping: the default weight 100 is the default 1024 shares.
        cpu().shares = Math.max(2, Math.round((int(name, v, 1, 10_000) * 1024) / 100));
        break;
      case 'CPUShares':
        cpu().shares = int(name, v, 2, 262_144);
        break;
      case 'AllowedCPUs':
        cpu().cpus = v;
        break;
      case 'AllowedMemoryNodes':
        cpu().mems = v;
        break;
      case 'TasksMax':
        r.pids = { limit: v === 'infinity' ? -1 : int(name, v, 1, 2 ** 31) };
        break;
      case 'IOWeight':
        // systemd's IOWeight is cgroup v2's io.weight; OCI's blkio weight is v1's.
        r.blockIO = { weight: ioWeightToBlkioWeight(int(name, v, 1, 10_000)) };
        break;
      default:
        throw fail('property', `${name}: not a resource property berth knows (MemoryMax, MemoryLow, MemorySwapMax, CPUQuota, CPUWeight, CPUShares, AllowedCPUs, AllowedMemoryNodes, TasksMax, IOWeight)`);
    }
  }
  if (r.memory?.swap !== undefined && r.memory.swap >= 0) {
    if (r.memory.limit === undefined || r.memory.limit < 0) throw fail('property', 'MemorySwapMax needs MemoryMax');
    r.memory.swap += r.memory.limit;
  }
  return Object.keys(r).length ? r : undefined;
}

function capName(flag: string, c: string): string {
  const name = c.toUpperCase().startsWith('CAP_') ? c.toUpperCase() : `CAP_${c.toUpperCase()}`;
  if (c.toLowerCase() !== 'all' && !(name in CAPABILITIES)) throw fail(flag, `${JSON.stringify(c)}: not a capability (e.g. CAP_NET_ADMIN)`);
  return name;
}

export interface SpecInputs {
  /** The mount point of the root. */
  rootPath: string;
  /** The user, resolved against the root's /etc/passwd by the caller. */
  user?: { uid: number; gid: number };
  /** Use a terminal (pty) for the process. */
  terminal: boolean;
  /** TERM and the window size, from the caller's terminal. */
  term?: string;
  size?: { width: number; height: number };
  /** From an image: it has its own command; a directory's default is a shell. */
  fromImage: boolean;
}

/** The spec for `berth run` with these options, on top of `base` (not changed). */
export function nspawnSpec(o: NspawnOptions, base: Spec, i: SpecInputs): Spec {
  const s: Spec = structuredClone(base);
  const p = (s.process ??= { cwd: '/', args: [], user: { uid: 0, gid: 0 } });
  s.root = { path: i.rootPath, readonly: o.readOnly };
  if (o.command.length) p.args = o.command;
  else if (!i.fromImage || !p.args?.length) p.args = ['/bin/sh'];
  const env = new Map((p.env ?? []).map((e) => [e.split('=')[0]!, e]));
  if (i.terminal && i.term) env.set('TERM', `TERM=${i.term}`);
  if (o.name) env.set('container_name', `container_name=${o.name}`);
  env.set('container', 'container=berth');
  for (const e of o.env) env.set(e.split('=')[0]!, e);
  p.env = [...env.values()];
  if (o.cwd) p.cwd = o.cwd;
  if (i.user) p.user = { ...p.user, uid: i.user.uid, gid: i.user.gid };
  p.terminal = i.terminal;
  if (i.terminal && i.size) p.consoleSize = i.size;
  else delete p.consoleSize;
  s.hostname = o.hostname ?? o.name ?? s.hostname;
  if (o.noNewPrivileges !== undefined) p.noNewPrivileges = o.noNewPrivileges;
  else p.noNewPrivileges = false; // nspawn's default

  const linux = (s.linux ??= {});
  if (o.network.mode === 'host') linux.namespaces = (linux.namespaces ?? []).filter((n) => n.type !== 'network');

  const caps = (p.capabilities ??= {});
  const sets = ['bounding', 'effective', 'permitted'] as const;
  for (const c of o.addCaps.map((c) => capName('capability', c))) {
    const add = c === 'CAP_ALL' ? Object.keys(CAPABILITIES) : [c];
    for (const k of sets) caps[k] = [...new Set([...(caps[k] ?? []), ...add])];
  }
  for (const c of o.dropCaps.map((c) => capName('drop-capability', c))) {
    for (const k of [...sets, 'inheritable', 'ambient'] as const) if (caps[k]) caps[k] = c === 'CAP_ALL' ? [] : caps[k]!.filter((x) => x !== c);
  }

  const rl = new Map((p.rlimits ?? []).map((r) => [r.type, r]));
  for (const r of o.rlimits) {
    if (!(r.type in RLIMITS)) throw fail('rlimit', `${r.type}: not a resource limit (e.g. NOFILE, NPROC, CORE)`);
    if (r.soft > r.hard) throw fail('rlimit', `${r.type}: the soft limit is above the hard one`);
    rl.set(r.type, { type: r.type as never, soft: r.soft, hard: r.hard });
  }
  p.rlimits = [...rl.values()];

  const mounts: Mount[] = (s.mounts ?? []).filter((m) => !o.binds.some((b) => b.destination === m.destination) && !o.tmpfs.some((t) => t.destination === m.destination));
  for (const b of o.binds)
    mounts.push({ destination: b.destination, type: 'bind', source: b.source, options: [b.recursive ? 'rbind' : 'bind', ...(b.readonly ? ['ro'] : [])] });
  for (const t of o.tmpfs) mounts.push({ destination: t.destination, type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', ...(t.options.some((x) => x.startsWith('mode=')) ? [] : ['mode=755']), ...t.options] });
  s.mounts = mounts;

  const res = propertiesToResources(o.properties);
  if (res) linux.resources = { ...(linux.resources ?? {}), ...res };
  return s;
}
