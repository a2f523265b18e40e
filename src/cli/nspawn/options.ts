// `berth run` for people: systemd-nspawn's flags, parsed into typed options.
// Parsing stops at the first argument that is not a flag (nspawn's getopt
// "+"), which starts the command. Errors name the flag.
import { parseArgs, UsageError, type FlagDefs } from '../oci/args.js';
import type { HealthOptions } from './health.js';

export const nspawnFlags = {
  directory: { type: 'string', alias: ['D'] },
  image: { type: 'string', alias: ['i'] },
  machine: { type: 'string', alias: ['M'] },
  ephemeral: { type: 'bool', alias: ['x'] },
  'read-only': { type: 'bool' },
  bind: { type: 'list' },
  'bind-ro': { type: 'list' },
  tmpfs: { type: 'list' },
  setenv: { type: 'list', alias: ['E'] },
  user: { type: 'string', alias: ['u'] },
  chdir: { type: 'string' },
  hostname: { type: 'string' },
  'private-network': { type: 'bool' },
  'network-veth': { type: 'bool', alias: ['n'] },
  'network-bridge': { type: 'string' },
  port: { type: 'list', alias: ['p'] },
  capability: { type: 'list' },
  'drop-capability': { type: 'list' },
  'no-new-privileges': { type: 'string' },
  rlimit: { type: 'list' },
  property: { type: 'list' },
  'kill-signal': { type: 'string' },
  console: { type: 'string' },
  pipe: { type: 'bool', alias: ['P'] },
  quiet: { type: 'bool', alias: ['q'] },
  // accepted for nspawn users' scripts; berth registers no machine or unit
  register: { type: 'string' },
  'keep-unit': { type: 'bool' },
  boot: { type: 'bool' },
  'as-pid2': { type: 'bool', alias: ['a'] },
  // for people, beyond nspawn: supervision and logs (docker's names)
  restart: { type: 'string' },
  'health-cmd': { type: 'string' },
  'health-tcp': { type: 'string' },
  'health-http': { type: 'string' },
  'health-interval': { type: 'string' },
  'health-timeout': { type: 'string' },
  'health-retries': { type: 'int' },
  timestamps: { type: 'bool' },
  'log-file': { type: 'string' },
  detach: { type: 'bool', alias: ['d'] },
} as const satisfies FlagDefs;

/** Flags that only nspawn's `run` has: one of them before the command makes `berth run` the nspawn-like face. */
const only = new Set(Object.entries(nspawnFlags).flatMap(([k, d]) => [k, ...(('alias' in d ? d.alias : []) as readonly string[])]));
// runc's run has -b (--bundle), -d, --pid-file, ...: those stay runc's.
only.delete('b');
only.delete('d');
only.delete('detach');

export function isNspawnRun(argv: readonly string[]): boolean {
  for (const a of argv) {
    if (a === '--' || !a.startsWith('-') || a === '-') return false;
    if (only.has(a.replace(/^--?/, '').split('=')[0]!)) return true;
  }
  return false;
}

/** The network -n/--network-veth puts a container on, made on first use (a documented test range, checked against the host's routes). */
export const VETH_NETWORK = { name: 'veth', subnet: '198.18.240.0/24' };

export interface Bind {
  source: string;
  destination: string;
  readonly: boolean;
  recursive: boolean;
}

export type ConsoleMode = 'interactive' | 'read-only' | 'passive' | 'pipe';

export interface NspawnOptions {
  /** The root: a directory, or an imported image's name. */
  root: { directory: string } | { image: string };
  name?: string;
  ephemeral: boolean;
  readOnly: boolean;
  binds: Bind[];
  tmpfs: { destination: string; options: string[] }[];
  env: string[];
  user?: string;
  cwd?: string;
  hostname?: string;
  network: { mode: 'host' } | { mode: 'none' } | { mode: 'bridge'; network: string };
  ports: { protocol: 'tcp' | 'udp'; hostPort: number; containerPort: number }[];
  addCaps: string[];
  dropCaps: string[];
  noNewPrivileges?: boolean;
  rlimits: { type: string; soft: number; hard: number }[];
  properties: Record<string, string>;
  killSignal?: string;
  console?: ConsoleMode;
  quiet: boolean;
  /** --as-pid2: a stub init is pid 1, the command pid 2. */
  asPid2: boolean;
  /** Start it again when it ends: on a failure (non-zero exit, or unhealthy), at most `max` times; or always. */
  restart: { policy: 'no' | 'on-failure' | 'always'; max?: number };
  health?: HealthOptions;
  /** Each line of output prefixed with its time (not with a terminal); also appended to logFile. */
  timestamps: boolean;
  logFile?: string;
  /** Run in the background under a supervisor; output to the container's log (`berth logs`). */
  detach: boolean;
  /** The command; empty: the image's, or a shell. */
  command: string[];
}

function duration(flag: string, v: string | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(v);
  if (!m || Number(m[1]) <= 0) throw fail(flag, `${JSON.stringify(v)}: want a duration like 500ms, 5s or 1m`);
  return Math.round(Number(m[1]) * (m[2] === 'ms' ? 1 : m[2] === 'm' ? 60_000 : 1000));
}

function restartPolicy(v: string | undefined): NspawnOptions['restart'] {
  if (v === undefined || v === 'no') return { policy: 'no' };
  if (v === 'always') return { policy: 'always' };
  const m = /^on-failure(?::(\d+))?$/.exec(v);
  if (!m) throw fail('restart', `${JSON.stringify(v)}: want no, on-failure[:MAX] or always`);
  return m[1] === undefined ? { policy: 'on-failure' } : { policy: 'on-failure', max: Number(m[1]) };
}

function portNumber(flag: string, v: string): number {
  if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > 65535) throw fail(flag, `${JSON.stringify(v)}: want a port, 1-65535`);
  return Number(v);
}

function health(f: Record<string, unknown>): HealthOptions | undefined {
  const cmd = f['health-cmd'] as string | undefined, tcp = f['health-tcp'] as string | undefined, http = f['health-http'] as string | undefined;
  const given = [cmd, tcp, http].filter((x) => x !== undefined).length;
  if (!given) {
    for (const k of ['health-interval', 'health-timeout', 'health-retries']) if (f[k] !== undefined) throw fail(k, 'needs --health-cmd, --health-tcp or --health-http');
    return undefined;
  }
  if (given > 1) throw fail('health-cmd', 'give one of --health-cmd, --health-tcp, --health-http');
  let check: HealthOptions['check'];
  if (cmd !== undefined) check = { kind: 'cmd', command: cmd };
  else if (tcp !== undefined) check = { kind: 'tcp', port: portNumber('health-tcp', tcp) };
  else {
    // PORT[/PATH] (the container's address), or http://HOST:PORT/PATH
    const m = /^(?:http:\/\/([^/:]+):)?(\d+)(\/.*)?$/.exec(http!);
    if (!m) throw fail('health-http', `${JSON.stringify(http)}: want PORT[/PATH] or http://HOST:PORT[/PATH]`);
    check = { kind: 'http', port: portNumber('health-http', m[2]!), path: m[3] ?? '/', ...(m[1] ? { host: m[1] } : {}) };
  }
  const retries = (f['health-retries'] as number | undefined) ?? 3;
  if (retries < 1) throw fail('health-retries', `${retries}: want 1 or more`);
  return { check, intervalMs: duration('health-interval', f['health-interval'] as string | undefined, 10_000), timeoutMs: duration('health-timeout', f['health-timeout'] as string | undefined, 5000), retries };
}

const fail = (flag: string, why: string) => new UsageError(`--${flag}: ${why}`);

function bind(flag: string, v: string, readonly: boolean): Bind {
  // SRC[:DST[:OPTIONS]], as nspawn: OPTIONS is rbind (default) or norbind.
  const [source, destination = source, opts = ''] = v.split(':');
  if (!source?.startsWith('/') || !destination.startsWith('/')) throw fail(flag, `${JSON.stringify(v)}: paths must be absolute (SOURCE[:DESTINATION[:OPTIONS]])`);
  const recursive = opts === '' || opts === 'rbind';
  if (!recursive && opts !== 'norbind') throw fail(flag, `${JSON.stringify(v)}: unknown option ${JSON.stringify(opts)} (rbind or norbind)`);
  return { source, destination, readonly, recursive };
}

function port(v: string) {
  // [PROTOCOL:]HOSTPORT[:CONTAINERPORT]
  const parts = v.split(':');
  const protocol = parts[0] === 'tcp' || parts[0] === 'udp' ? (parts.shift() as 'tcp' | 'udp') : 'tcp';
  const [h, c = h] = parts;
  const n = (s: string | undefined) => (s && /^\d+$/.test(s) && Number(s) >= 1 && Number(s) <= 65535 ? Number(s) : NaN);
  const hostPort = n(h), containerPort = n(c);
  if (parts.length > 2 || Number.isNaN(hostPort) || Number.isNaN(containerPort)) throw fail('port', `${JSON.stringify(v)}: want [tcp|udp:]HOSTPORT[:CONTAINERPORT], ports 1-65535`);
  return { protocol, hostPort, containerPort };
}

const RLIMIT = /^(RLIMIT_)?([A-Z]+)=(\d+|infinity)(:(\d+|infinity))?$/i;

function rlimit(v: string) {
  const m = RLIMIT.exec(v);
  if (!m) throw fail('rlimit', `${JSON.stringify(v)}: want NAME=SOFT[:HARD] (e.g. NOFILE=1024:4096)`);
  const num = (s: string) => (s.toLowerCase() === 'infinity' ? 2 ** 64 - 1 : Number(s));
  const soft = num(m[3]!);
  return { type: `RLIMIT_${m[2]!.toUpperCase()}`, soft, hard: m[5] ? num(m[5]) : soft };
}

function yesNo(flag: string, v: string | undefined): boolean | undefined {
  if (v === undefined) return undefined;
  if (/^(yes|true|1|on)$/i.test(v)) return true;
  if (/^(no|false|0|off)$/i.test(v)) return false;
  throw fail(flag, `${JSON.stringify(v)}: want yes or no`);
}

const list = (v: unknown) => ((v as string[] | undefined) ?? []).flatMap((s) => s.split(',')).filter(Boolean);

export function parseNspawn(argv: readonly string[]): NspawnOptions {
  const { flags: f, rest } = parseArgs(argv, nspawnFlags);
  if (f.boot) throw fail('boot', 'booting an init system is not supported: give the command to run');
  const dir = f.directory as string | undefined;
  const image = (f.image as string | undefined) ?? (dir ? undefined : (f.machine as string | undefined));
  if (dir && f.image) throw fail('image', 'give --directory or --image, not both');
  if (!dir && !image) throw new UsageError('berth run: give --directory DIR, --image NAME, or --machine NAME of an imported image');
  if (dir !== undefined && !dir.startsWith('/')) throw fail('directory', `${JSON.stringify(dir)}: must be an absolute path`);
  const consoleMode = f.pipe ? 'pipe' : (f.console as string | undefined);
  if (consoleMode !== undefined && !['interactive', 'read-only', 'passive', 'pipe', 'autopipe'].includes(consoleMode))
    throw fail('console', `${JSON.stringify(consoleMode)}: want interactive, read-only, passive, pipe or autopipe`);
  const bridge = f['network-bridge'] as string | undefined;
  const network: NspawnOptions['network'] =
    bridge !== undefined ? { mode: 'bridge', network: bridge } : f['network-veth'] ? { mode: 'bridge', network: VETH_NETWORK.name } : f['private-network'] ? { mode: 'none' } : { mode: 'host' };
  const ports = ((f.port as string[] | undefined) ?? []).map(port);
  if (ports.length && network.mode !== 'bridge') throw fail('port', 'needs a veth: add --network-veth or --network-bridge NAME');
  const properties: Record<string, string> = {};
  for (const p of (f.property as string[] | undefined) ?? []) {
    const eq = p.indexOf('=');
    if (eq <= 0) throw fail('property', `${JSON.stringify(p)}: want NAME=VALUE`);
    properties[p.slice(0, eq)] = p.slice(eq + 1);
  }
  const env = (f.setenv as string[] | undefined) ?? [];
  for (const e of env) if (!/^[^=]+=/.test(e)) throw fail('setenv', `${JSON.stringify(e)}: want NAME=VALUE`);
  const cwd = f.chdir as string | undefined;
  if (cwd !== undefined && !cwd.startsWith('/')) throw fail('chdir', `${JSON.stringify(cwd)}: must be an absolute path`);
  const tmpfs = ((f.tmpfs as string[] | undefined) ?? []).map((t) => {
    const [destination, opts] = [t.split(':')[0]!, t.split(':').slice(1).join(':')];
    if (!destination.startsWith('/')) throw fail('tmpfs', `${JSON.stringify(t)}: want PATH[:OPTIONS] with an absolute path`);
    return { destination, options: opts ? opts.split(',') : [] };
  });
  return {
    root: dir ? { directory: dir } : { image: image! },
    name: f.machine as string | undefined,
    ephemeral: !!f.ephemeral,
    readOnly: !!f['read-only'],
    binds: [...((f.bind as string[] | undefined) ?? []).map((b) => bind('bind', b, false)), ...((f['bind-ro'] as string[] | undefined) ?? []).map((b) => bind('bind-ro', b, true))],
    tmpfs,
    env,
    user: f.user as string | undefined,
    cwd,
    hostname: f.hostname as string | undefined,
    network,
    ports,
    addCaps: list(f.capability),
    dropCaps: list(f['drop-capability']),
    noNewPrivileges: yesNo('no-new-privileges', f['no-new-privileges'] as string | undefined),
    rlimits: ((f.rlimit as string[] | undefined) ?? []).map(rlimit),
    properties,
    killSignal: f['kill-signal'] as string | undefined,
    console: consoleMode === 'autopipe' ? undefined : (consoleMode as ConsoleMode | undefined),
    quiet: !!f.quiet,
    asPid2: !!f['as-pid2'],
    restart: restartPolicy(f.restart as string | undefined),
    health: health(f),
    timestamps: !!f.timestamps || f['log-file'] !== undefined,
    logFile: f['log-file'] as string | undefined,
    detach: !!f.detach,
    command: rest,
  };
}
