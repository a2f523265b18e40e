// The nspawn-like face: telling it from runc's `run`, its flags, and the spec they make.
import t from 'tap';
import { isNspawnRun, parseNspawn } from '../../src/cli/nspawn/options.js';
import { nspawnSpec, parseSize, propertiesToResources } from '../../src/cli/nspawn/spec.js';
import { progressLine } from '../../src/cli/nspawn/progress.js';
import { statsRow, statsTable } from '../../src/cli/nspawn/stats.js';
import { defaultSpec } from '../../src/spec/defaults.js';

t.test('which run: nspawn flags before the command, runc otherwise', async (t) => {
  t.ok(isNspawnRun(['-D', '/srv/root', 'sh']));
  t.ok(isNspawnRun(['--directory=/srv/root']));
  t.ok(isNspawnRun(['-q', '--image', 'busybox']));
  t.ok(isNspawnRun(['-M', 'web']));
  t.notOk(isNspawnRun(['mycontainer']), 'runc: run ID');
  t.notOk(isNspawnRun(['-b', '/bundle', '-d', 'id']), '-b is runc\'s --bundle');
  t.notOk(isNspawnRun(['--bundle', '/b', '--pid-file', 'p', 'id']));
  t.notOk(isNspawnRun(['id', '-D', 'x']), 'flags after the id are not looked at');
});

t.test('flags', async (t) => {
  const o = parseNspawn(['-D', '/srv', '-M', 'web', '--bind', '/a:/b:norbind', '--bind-ro', '/c', '--tmpfs', '/run:size=1m,mode=700', '-E', 'A=1', '--setenv=B=2',
    '-u', 'daemon', '--chdir', '/tmp', '-n', '-p', 'udp:53', '-p', '8080:80', '--capability', 'net_admin,CAP_SYS_TIME', '--drop-capability', 'CAP_CHOWN',
    '--no-new-privileges', 'yes', '--rlimit', 'NOFILE=100:200', '--property', 'MemoryMax=64M', '-q', 'sh', '-c', 'x']);
  t.same(o.root, { directory: '/srv' });
  t.equal(o.name, 'web');
  t.same(o.binds, [{ source: '/a', destination: '/b', readonly: false, recursive: false }, { source: '/c', destination: '/c', readonly: true, recursive: true }]);
  t.same(o.tmpfs, [{ destination: '/run', options: ['size=1m', 'mode=700'] }]);
  t.same(o.env, ['A=1', 'B=2']);
  t.same(o.network, { mode: 'bridge', network: 'veth' });
  t.same(o.ports, [{ protocol: 'udp', hostPort: 53, containerPort: 53 }, { protocol: 'tcp', hostPort: 8080, containerPort: 80 }]);
  t.same(o.addCaps, ['net_admin', 'CAP_SYS_TIME']);
  t.equal(o.noNewPrivileges, true);
  t.same(o.rlimits, [{ type: 'RLIMIT_NOFILE', soft: 100, hard: 200 }]);
  t.same(o.command, ['sh', '-c', 'x'], 'the command starts at the first non-flag');
  t.same(parseNspawn(['-M', 'busybox']).root, { image: 'busybox' }, '-M alone: the imported image of that name, as /var/lib/machines/NAME');
  t.same(parseNspawn(['-D', '/r', '--private-network']).network, { mode: 'none' });
  t.same(parseNspawn(['-D', '/r']).network, { mode: 'host' }, 'the host\'s network by default, as nspawn');
  t.same([parseNspawn(['-D', '/r']).asPid2, parseNspawn(['-D', '/r', '-a']).asPid2, parseNspawn(['-D', '/r', '--as-pid2']).asPid2], [false, true, true], '--as-pid2, -a');
});

t.test('bad flags name the flag', async (t) => {
  const bad: [string[], RegExp][] = [
    [['-D', 'rel'], /^--directory: "rel": must be an absolute path/],
    [['-D', '/r', '-p', '80'], /^--port: needs a veth/],
    [['-D', '/r', '-n', '-p', '99999'], /^--port: "99999"/],
    [['-D', '/r', '--bind', 'a:b'], /^--bind: "a:b": paths must be absolute/],
    [['-D', '/r', '--bind', '/a:/b:weird'], /^--bind: .*unknown option "weird"/],
    [['-D', '/r', '--rlimit', 'NOFILE'], /^--rlimit: "NOFILE"/],
    [['-D', '/r', '--no-new-privileges', 'maybe'], /^--no-new-privileges: "maybe"/],
    [['-D', '/r', '-E', 'NOEQUALS'], /^--setenv: "NOEQUALS"/],
    [['-D', '/r', '--console', 'tv'], /^--console: "tv"/],
    [['-D', '/r', '--boot'], /^--boot: booting an init system is not supported/],
    [['-D', '/r', '--image', 'x'], /^--image: give --directory or --image, not both/],
    [['-q'], /give --directory DIR, --image NAME, or --machine NAME/],
  ];
  for (const [argv, re] of bad) t.throws(() => parseNspawn(argv), re, argv.join(' '));
});

t.test('systemd resource properties', async (t) => {
  t.equal(parseSize('MemoryMax', '64M'), 64 * 2 ** 20);
  t.equal(parseSize('MemoryMax', '1.5G'), 1.5 * 2 ** 30);
  t.equal(parseSize('MemoryMax', 'infinity'), -1);
  t.same(propertiesToResources({ MemoryMax: '64M', MemorySwapMax: '16M', TasksMax: '32', CPUQuota: '20%', CPUWeight: '100', AllowedCPUs: '0' }), {
    memory: { limit: 64 * 2 ** 20, swap: 80 * 2 ** 20 },
    pids: { limit: 32 },
    cpu: { period: 100_000, quota: 20_000, shares: 1024, cpus: '0' }, // CPUWeight=100 is systemd's default, cpu.shares 1024
  });
  t.throws(() => propertiesToResources({ CPUQuota: '20' }), /^--property: CPUQuota=20: want a percentage/);
  t.throws(() => propertiesToResources({ MemorySwapMax: '1M' }), /MemorySwapMax needs MemoryMax/);
  t.throws(() => propertiesToResources({ Frobnicate: '1' }), /^--property: Frobnicate: not a resource property/);
  t.equal(propertiesToResources({}), undefined);
});

t.test('the spec', async (t) => {
  const base = defaultSpec();
  const o = parseNspawn(['-D', '/srv', '-M', 'web', '--bind-ro', '/data', '--capability', 'NET_ADMIN', '--drop-capability', 'CAP_KILL', '--read-only']);
  const s = nspawnSpec(o, base, { rootPath: '/srv', terminal: true, term: 'xterm', size: { width: 100, height: 30 }, fromImage: false });
  t.same(s.root, { path: '/srv', readonly: true });
  t.same(s.process!.args, ['/bin/sh'], 'a shell when no command is given');
  t.equal(s.hostname, 'web', 'the machine name is the hostname');
  t.ok(s.process!.env!.includes('TERM=xterm') && s.process!.env!.includes('container=berth') && s.process!.env!.includes('container_name=web'));
  t.equal(s.process!.terminal, true);
  t.same(s.process!.consoleSize, { width: 100, height: 30 });
  t.notOk(s.linux!.namespaces!.some((n) => n.type === 'network'), 'host network: no network namespace');
  t.ok(s.process!.capabilities!.bounding!.includes('CAP_NET_ADMIN') && s.process!.capabilities!.effective!.includes('CAP_NET_ADMIN'));
  t.notOk(s.process!.capabilities!.bounding!.includes('CAP_KILL'));
  t.equal(s.process!.noNewPrivileges, false, 'nspawn\'s default');
  t.match(s.mounts!.at(-1), { destination: '/data', type: 'bind', source: '/data', options: ['rbind', 'ro'] });
  t.equal(base.process!.terminal, true, 'the base is not changed');
  t.ok(base.linux!.namespaces!.some((n) => n.type === 'network'));
  t.throws(() => nspawnSpec(parseNspawn(['-D', '/r', '--capability', 'CAP_FLY']), base, { rootPath: '/r', terminal: false, fromImage: false }), /^--capability: "CAP_FLY": not a capability/);
  t.throws(() => nspawnSpec(parseNspawn(['-D', '/r', '--rlimit', 'NOFILE=10:5']), base, { rootPath: '/r', terminal: false, fromImage: false }), /soft limit is above the hard one/);
});

t.test('the progress line', async (t) => {
  t.equal(progressLine({ layer: 0, layers: 2, bytes: 2 ** 20, total: 4 * 2 ** 20 }, 60), `[${'='.repeat(8)}>${' '.repeat(23)}]  25% 1.0/4.0 MB layer 1/2`, 'a quarter of 32 columns, 60 in all');
  t.equal(progressLine({ layer: 1, layers: 2, bytes: 4, total: 4, done: true }, 50), `[${'='.repeat(22)}] 100% 0.0/0.0 MB layer 2/2`);
  t.equal(progressLine({ layer: 0, layers: 1, bytes: 3 * 2 ** 20 }, 80), `[${' '.repeat(40)}] 3.0 MB layer 1/1`, 'no total: no fill');
  t.equal(progressLine({ layer: 0, layers: 3, bytes: 0, skipped: true }, 80), 'layer 1/3 already stored');
  t.ok(progressLine({ layer: 0, layers: 1, bytes: 1, total: 2 }, 20).length <= 20, 'fits its width');
});

t.test('supervision flags', async (t) => {
  const o = parseNspawn(['-D', '/r', '--restart', 'on-failure:3', '--health-http', '8080/healthz', '--health-interval', '2s', '--health-timeout', '500ms', '--health-retries', '5', '--log-file', '/l']);
  t.same(o.restart, { policy: 'on-failure', max: 3 });
  t.same(o.health, { check: { kind: 'http', port: 8080, path: '/healthz' }, intervalMs: 2000, timeoutMs: 500, retries: 5 });
  t.ok(o.timestamps, '--log-file implies timestamps');
  t.same(parseNspawn(['-D', '/r', '--health-http', 'http://10.0.0.2:80/']).health!.check, { kind: 'http', port: 80, path: '/', host: '10.0.0.2' });
  t.same(parseNspawn(['-D', '/r', '--health-cmd', 'pgrep x']).health, { check: { kind: 'cmd', command: 'pgrep x' }, intervalMs: 10_000, timeoutMs: 5000, retries: 3 });
  t.same(parseNspawn(['-D', '/r', '--restart', 'always']).restart, { policy: 'always' });
  t.same(parseNspawn(['-D', '/r']).restart, { policy: 'no' });
  const bad: [string[], RegExp][] = [
    [['-D', '/r', '--restart', 'sometimes'], /^--restart: "sometimes": want no, on-failure\[:MAX\] or always/],
    [['-D', '/r', '--health-cmd', 'x', '--health-tcp', '1'], /^--health-cmd: give one of/],
    [['-D', '/r', '--health-interval', '5s'], /^--health-interval: needs --health-cmd/],
    [['-D', '/r', '--health-tcp', '0'], /^--health-tcp: "0": want a port/],
    [['-D', '/r', '--health-http', 'x/y'], /^--health-http: "x\/y": want PORT/],
    [['-D', '/r', '--health-cmd', 'x', '--health-interval', 'soon'], /^--health-interval: "soon": want a duration/],
    [['-D', '/r', '--health-cmd', 'x', '--health-retries', '0'], /^--health-retries: 0: want 1 or more/],
  ];
  for (const [argv, re] of bad) t.throws(() => parseNspawn(argv), re, argv.join(' '));
});

t.test('stats rows', async (t) => {
  const sample = (cpu: number, limit: number) =>
    ({
      cpu: { usage: { total: cpu, user: 0, kernel: 0 }, throttling: { periods: 0, throttledPeriods: 0, throttledTime: 0 } },
      memory: { usage: { usage: 3 * 2 ** 20, limit, failcnt: 0 }, cache: 0, rss: 0, pageFaults: 0, majorPageFaults: 0, raw: {} },
      pids: { current: 2, limit: 0 },
      blkio: { ioServiceBytes: [{ major: 7, minor: 0, op: 'Read', value: 2 ** 20 }, { major: 7, minor: 0, op: 'Write', value: 0 }], ioServiced: [] },
    }) as never;
  const r = statsRow('web', sample(0, 2 ** 62), sample(500e6, 2 ** 62), 1000);
  t.same(r, { name: 'web', cpuPercent: 50, memory: 3 * 2 ** 20, pids: 2, blockRead: 2 ** 20, blockWrite: 0 }, 'half a CPU over 1 s; v1\'s "no limit" is none');
  t.equal(statsRow('web', sample(0, 2 ** 26), sample(2e9, 2 ** 26), 1000).cpuPercent, 200, 'two CPUs busy');
  t.same(statsTable([statsRow('web', sample(0, 2 ** 26), sample(1e8, 2 ** 26), 1000)]), [
    'NAME   CPU %   MEM USAGE / LIMIT   PIDS   BLOCK I/O',
    'web    10.0%   3.0MiB / 64.0MiB    2      1.0MiB / 0.0MiB',
  ]);
});
