// The v1 driver against a temporary tree laid out like /sys/fs/cgroup on a
// v1 host. The kernel makes a cgroup's files at mkdir; here the test makes
// them beforehand, so the driver finds the directory there, as files.
import t from 'tap';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openCgroup, cgroupPlacement, runcStats } from '../../src/cgroups/index.js';
import type { Resources } from '../../src/spec/types.js';

const FILES: Record<string, string[]> = {
  cpu: ['cpu.shares', 'cpu.cfs_period_us', 'cpu.cfs_quota_us', 'cpu.cfs_burst_us', 'cpu.rt_period_us', 'cpu.rt_runtime_us', 'cpu.idle', 'cpu.stat'],
  cpuacct: ['cpuacct.usage', 'cpuacct.usage_percpu', 'cpuacct.stat', 'cpuacct.usage_all'],
  cpuset: ['cpuset.cpus', 'cpuset.mems'],
  memory: [
    'memory.limit_in_bytes', 'memory.memsw.limit_in_bytes', 'memory.soft_limit_in_bytes', 'memory.swappiness', 'memory.oom_control',
    'memory.kmem.tcp.limit_in_bytes', 'memory.usage_in_bytes', 'memory.stat',
  ],
  devices: ['devices.allow', 'devices.deny'],
  freezer: ['freezer.state'],
  blkio: ['blkio.throttle.read_bps_device', 'blkio.throttle.write_iops_device'],
  pids: ['pids.max', 'pids.current'],
  systemd: [],
};

/** A fake v1 root; `dirs` get every controller's files (empty, as if the kernel made them). */
function fakeRoot(t: { teardown(fn: () => void): void }, dirs: string[] = []): string {
  const root = mkdtempSync(join(tmpdir(), 'cgroups-v1-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  for (const [h, files] of Object.entries(FILES)) {
    mkdirSync(join(root, h));
    writeFileSync(join(root, h, 'cgroup.procs'), '');
    if (h === 'cpuset') {
      writeFileSync(join(root, h, 'cpuset.cpus'), '0-3\n');
      writeFileSync(join(root, h, 'cpuset.mems'), '0\n');
    }
    for (const d of dirs) {
      mkdirSync(join(root, h, d), { recursive: true });
      for (const f of ['cgroup.procs', ...files]) writeFileSync(join(root, h, d, f), '');
    }
  }
  return root;
}

const read = (root: string, h: string, file: string, path = 'berth/c1') => readFileSync(join(root, h, path, file), 'utf8');

const MB = 1 << 20;

t.test('create writes each resource to its file', async (t) => {
  const root = fakeRoot(t, ['berth/c1']);
  writeFileSync(join(root, 'memory/berth/c1/memory.limit_in_bytes'), '9223372036854771712\n');
  const resources: Resources = {
    memory: { limit: 64 * MB, swap: 128 * MB, reservation: 32 * MB, swappiness: 10, disableOOMKiller: false },
    cpu: { shares: 512, quota: 20000, period: 100000, cpus: '1', mems: '0', idle: 0 },
    pids: { limit: 32 },
    blockIO: { throttleReadBpsDevice: [{ major: 7, minor: 0, rate: MB }], throttleWriteIOPSDevice: [{ major: 7, minor: 0, rate: 10 }] },
    devices: [{ allow: false, access: 'rwm' }],
  };
  const cg = openCgroup({ root, version: 1, path: 'berth/c1', resources });
  await cg.create();
  // memory.limit_in_bytes read back as unlimited: memsw is written after the limit.
  t.equal(read(root, 'memory', 'memory.limit_in_bytes').trim().slice(0, 8), String(64 * MB));
  t.equal(read(root, 'memory', 'memory.memsw.limit_in_bytes'), String(128 * MB), 'OCI swap is memory+swap, as memsw');
  t.equal(read(root, 'memory', 'memory.soft_limit_in_bytes'), String(32 * MB));
  t.equal(read(root, 'memory', 'memory.swappiness'), '10');
  t.equal(read(root, 'memory', 'memory.oom_control'), '0');
  t.equal(read(root, 'cpu', 'cpu.shares'), '512');
  t.equal(read(root, 'cpu', 'cpu.cfs_quota_us'), '20000');
  t.equal(read(root, 'cpu', 'cpu.cfs_period_us'), '100000');
  t.equal(read(root, 'cpu', 'cpu.idle'), '0');
  t.equal(read(root, 'cpuset', 'cpuset.cpus'), '1');
  t.equal(read(root, 'pids', 'pids.max'), '32');
  t.equal(read(root, 'blkio', 'blkio.throttle.read_bps_device'), `7:0 ${MB}`);
  t.equal(read(root, 'blkio', 'blkio.throttle.write_iops_device'), '7:0 10');
  t.equal(read(root, 'devices', 'devices.deny'), 'a', 'deny all first');
  t.match(read(root, 'devices', 'devices.allow'), /^c 5:2 rwm/, 'the allow lines after it (the last one stays in a plain file)');
  t.equal(read(root, 'systemd', 'cgroup.procs'), '', 'named hierarchies are joined, not configured');

  await cg.addProcess(4242);
  for (const h of Object.keys(FILES)) t.equal(read(root, h, 'cgroup.procs'), '4242', `${h}: the pid joins every hierarchy`);
});

t.test('new cgroups are made with their parents; cpuset copies the parent first', async (t) => {
  const root = fakeRoot(t);
  const cg = openCgroup({ root, version: 1, path: 'berth/c2' });
  // No files appear in a fake mkdir, so only hierarchies with nothing to write succeed: check that with no resources.
  await cg.create();
  for (const h of Object.keys(FILES)) t.ok(existsSync(join(root, h, 'berth/c2')), `${h}/berth/c2`);
  await cg.destroy();
  for (const h of Object.keys(FILES)) {
    t.notOk(existsSync(join(root, h, 'berth/c2')), `${h}/berth/c2 removed`);
    t.ok(existsSync(join(root, h, 'berth')), `${h}/berth (the parent) stays`);
  }
});

t.test('v1 cpuset: every level without cpus gets those of its parent first', async (t) => {
  const root = fakeRoot(t, ['berth', 'berth/c6']);
  await openCgroup({ root, version: 1, path: 'berth/c6', resources: { cpu: { mems: '0' } } }).create();
  t.equal(read(root, 'cpuset', 'cpuset.cpus', 'berth'), '0-3', 'berth got the root cpus');
  t.equal(read(root, 'cpuset', 'cpuset.cpus', 'berth/c6'), '0-3', 'and passed them on');
  t.equal(read(root, 'cpuset', 'cpuset.mems', 'berth/c6'), '0');
});

t.test('failures name the field and leave nothing made', async (t) => {
  const root = fakeRoot(t);
  // memory.limit_in_bytes does not exist in the fake's fresh directory: the write fails.
  const cg = openCgroup({ root, version: 1, path: 'berth/c3', resources: { memory: { limit: 64 * MB } } });
  const err = await cg.create().then(() => undefined, (e: Error) => e);
  t.match(err, { code: 'ENOENT', field: 'linux.resources.memory.limit', step: 'apply cgroup resources' });
  t.match(err?.message, /^linux\.resources\.memory\.limit: ENOENT: no such file or directory, open '.*memory\.limit_in_bytes'/);
  for (const h of Object.keys(FILES)) t.notOk(existsSync(join(root, h, 'berth')), `${h}/berth removed again (it was made for this cgroup)`);

  const bad: [Resources, RegExp][] = [
    [{ cpu: { shares: 1 } }, /^linux\.resources\.cpu\.shares: must be between 2 and 262144/],
    [{ blockIO: { weight: 5 } }, /^linux\.resources\.blockIO\.weight: must be between 10 and 1000/],
    [{ blockIO: { weightDevice: [{ major: 8, minor: 0, weight: 2000 }] } }, /^linux\.resources\.blockIO\.weightDevice\[0\]\.weight: /],
    [{ memory: { limit: 64 * MB, swap: 32 * MB } }, /^linux\.resources\.memory\.swap: must be at least memory\.limit/],
    [{ network: { classID: 7 } }, /^linux\.resources\.network\.classID: the net_cls cgroup controller is not mounted/],
    [{ hugepageLimits: [{ pageSize: '2MB', limit: 0 }] }, /^linux\.resources\.hugepageLimits: the hugetlb cgroup controller is not mounted/],
    [{ unified: { 'memory.high': '1' } }, /^linux\.resources\.unified: needs cgroup v2/],
    [{ cpu: { idle: 2 } }, /^linux\.resources\.cpu\.idle: must be 0 or 1/],
  ];
  for (const [resources, message] of bad) {
    const e = await openCgroup({ root, version: 1, path: 'berth/c4', resources }).create().then(() => undefined, (x: Error) => x);
    t.match(e?.message, message, JSON.stringify(resources));
    t.notOk(existsSync(join(root, 'memory/berth')), 'nothing made');
  }
});

t.test('a cgroup with processes in it is refused', async (t) => {
  const root = fakeRoot(t, ['berth/busy']);
  writeFileSync(join(root, 'pids/berth/busy/cgroup.procs'), '77\n');
  const e = await openCgroup({ root, version: 1, path: 'berth/busy' }).create().then(() => undefined, (x: Error) => x);
  t.match(e, { code: 'EBUSY', field: 'linux.cgroupsPath', message: /already has processes \(77\)/ });
});

t.test('update writes only what it is given, keeping the rest', async (t) => {
  const root = fakeRoot(t, ['berth/c5']);
  writeFileSync(join(root, 'memory/berth/c5/memory.limit_in_bytes'), `${32 * MB}\n`);
  const cg = openCgroup({ root, version: 1, path: 'berth/c5', resources: { memory: { limit: 32 * MB, swap: 64 * MB }, pids: { limit: 10 } } });
  await cg.create();
  writeFileSync(join(root, 'pids/berth/c5/pids.max'), 'untouched');
  writeFileSync(join(root, 'memory/berth/c5/memory.memsw.limit_in_bytes'), 'x');
  await cg.update({ memory: { limit: 48 * MB } });
  t.equal(read(root, 'memory', 'memory.limit_in_bytes', 'berth/c5').slice(0, 8), String(48 * MB));
  t.equal(read(root, 'memory', 'memory.memsw.limit_in_bytes', 'berth/c5'), String(64 * MB), 'swap is written again from what was applied');
  t.equal(read(root, 'pids', 'pids.max', 'berth/c5'), 'untouched', 'pids was not part of the update');

  writeFileSync(join(root, 'memory/berth/c5/memory.usage_in_bytes'), `${40 * MB}\n`);
  const e = await cg.update({ memory: { limit: 36 * MB, checkBeforeUpdate: true } }).then(() => undefined, (x: Error) => x);
  t.match(e?.message, /^linux\.resources\.memory\.limit: 37748736 is below the current usage \(41943040 bytes\)/);
});

t.test('stats parse the kernel files', async (t) => {
  const root = fakeRoot(t, ['berth/s']);
  const put = (h: string, f: string, v: string) => writeFileSync(join(root, h, 'berth/s', f), v);
  put('cpuacct', 'cpuacct.usage', '2500000000\n');
  put('cpuacct', 'cpuacct.usage_percpu', '2000000000 500000000 \n');
  put('cpuacct', 'cpuacct.stat', 'user 150\nsystem 50\n');
  put('cpuacct', 'cpuacct.usage_all', 'cpu user system\n0 1500000000 500000000\n1 400000000 100000000\n');
  put('cpu', 'cpu.stat', 'nr_periods 20\nnr_throttled 16\nthrottled_time 1600000000\n');
  put('memory', 'memory.usage_in_bytes', '1048576\n');
  put('memory', 'memory.limit_in_bytes', '9223372036854771712\n');
  put('memory', 'memory.stat', 'cache 4096\nrss 8192\npgfault 100\npgmajfault 2\npgpgin 50\npgpgout 10\ntotal_cache 4096\ntotal_rss 8192\n');
  put('memory', 'memory.oom_control', 'oom_kill_disable 0\nunder_oom 0\noom_kill 1\n');
  put('pids', 'pids.current', '3\n');
  put('pids', 'pids.max', 'max\n');
  writeFileSync(join(root, 'blkio/berth/s/blkio.throttle.io_service_bytes_recursive'), '7:0 Read 4096\n7:0 Write 0\nTotal 4096\n');
  const s = await openCgroup({ root, version: 1, path: 'berth/s' }).stats();
  t.same(s.cpu.usage, {
    total: 2_500_000_000, percpu: [2_000_000_000, 500_000_000], user: 1_500_000_000, kernel: 500_000_000,
    percpuUser: [1_500_000_000, 400_000_000], percpuKernel: [500_000_000, 100_000_000],
  });
  t.same(s.cpu.throttling, { periods: 20, throttledPeriods: 16, throttledTime: 1_600_000_000 });
  t.match(s.memory, { usage: { usage: MB, limit: -1 }, cache: 4096, rss: 8192, pageFaults: 100, majorPageFaults: 2, pageIn: 50, pageOut: 10 });
  t.equal(s.oomKills, 1);
  t.same(s.pids, { current: 3, limit: 0 });
  t.same(s.blkio.ioServiceBytes, [{ major: 7, minor: 0, op: 'Read', value: 4096 }, { major: 7, minor: 0, op: 'Write', value: 0 }]);
  const r = runcStats(s);
  t.equal(r.memory.usage.usage, MB);
  t.equal(r.memory.raw.pgfault, 100);
  t.same(r.blkio.ioServiceBytesRecursive?.[0], { major: 7, minor: 0, op: 'Read', value: 4096 });
  t.ok(JSON.stringify(r).includes('"throttledPeriods":16'), 'runc field names');
});

t.test('freeze: FROZEN when the kernel says so; a stuck freeze is thawed and fails', async (t) => {
  const root = fakeRoot(t, ['berth/f']);
  const cg = openCgroup({ root, version: 1, path: 'berth/f' });
  await cg.freeze();
  t.equal(await cg.freezerState(), 'frozen');
  await cg.thaw();
  t.equal(await cg.freezerState(), 'thawed');
  // The fake file never reads back "FROZEN": writes land over a longer text.
  writeFileSync(join(root, 'freezer/berth/f/freezer.state'), 'FREEZING\n');
  const e = await cg.freeze(100).then(() => undefined, (x: Error) => x);
  t.match(e, { code: 'ETIMEDOUT', step: 'pause' });
  t.match(read(root, 'freezer', 'freezer.state', 'berth/f'), /^THAWED/, 'rolled back');
});

t.test('hierarchies: co-mounted controllers are one; placement', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'cgroups-v1-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  mkdirSync(join(root, 'cpu,cpuacct'));
  writeFileSync(join(root, 'cpu,cpuacct', 'cgroup.procs'), '');
  symlinkSync('cpu,cpuacct', join(root, 'cpu'));
  symlinkSync('cpu,cpuacct', join(root, 'cpuacct'));
  const cg = openCgroup({ root, version: 1, path: 'berth/x' });
  await cg.create();
  t.ok(existsSync(join(root, 'cpu,cpuacct/berth/x')));
  await cg.destroy();
  t.notOk(existsSync(join(root, 'cpu,cpuacct/berth/x')));

  t.equal(cgroupPlacement(undefined, 'abc'), 'berth/abc');
  t.equal(cgroupPlacement('/libpod_parent/libpod-abc', 'abc'), 'libpod_parent/libpod-abc');
  t.equal(cgroupPlacement('/default/abc/', 'abc'), 'default/abc');
  t.equal(cgroupPlacement('mine/abc', 'abc'), 'berth/mine/abc', 'relative paths go below berth/');
  t.throws(() => cgroupPlacement('/a/../b', 'x'), /linux\.cgroupsPath: must not contain "\.\."/);
  t.throws(() => cgroupPlacement('/', 'x'), /not the root itself/);
  t.throws(() => cgroupPlacement('system.slice:docker:abc', 'x'), /systemd/);
});

t.test('a cgroup holding the caller is neither frozen nor killed', async (t) => {
  const root = fakeRoot(t, ['berth/me']);
  writeFileSync(join(root, 'pids/berth/me/cgroup.procs'), `${process.pid}\n`);
  const cg = openCgroup({ root, version: 1, path: 'berth/me' });
  await t.rejects(cg.freeze(), { code: 'EDEADLK', message: /holds this process/ });
  await t.rejects(cg.killAll(), { code: 'EDEADLK' });
  await t.rejects(cg.destroy(), { code: 'EDEADLK' });
  t.equal(read(root, 'freezer', 'freezer.state', 'berth/me'), '', 'nothing was written');
});
