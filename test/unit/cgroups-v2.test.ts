// The v2 driver against a temporary tree laid out like a cgroup2 mount. As
// in the v1 test, the cgroup's files are made beforehand in place of the kernel.
import t from 'tap';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openCgroup } from '../../src/cgroups/index.js';
import type { Resources } from '../../src/spec/types.js';

const LEAF_FILES = [
  'cgroup.procs', 'cgroup.controllers', 'cgroup.subtree_control', 'cgroup.events', 'cgroup.freeze', 'cgroup.kill',
  'cpu.weight', 'cpu.max', 'cpu.max.burst', 'cpu.idle', 'cpu.stat', 'cpuset.cpus', 'cpuset.mems',
  'memory.max', 'memory.high', 'memory.low', 'memory.swap.max', 'memory.current', 'memory.stat', 'memory.events',
  'pids.max', 'pids.current', 'io.weight', 'io.max', 'io.stat', 'hugetlb.2MB.max', 'hugetlb.2MB.current', 'hugetlb.2MB.events',
];
const ALL = 'cpuset cpu io memory hugetlb pids rdma misc';

function fakeRoot(t: { teardown(fn: () => void): void }, leaf = 'berth/c1'): string {
  const root = mkdtempSync(join(tmpdir(), 'cgroups-v2-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  writeFileSync(join(root, 'cgroup.controllers'), `${ALL}\n`);
  writeFileSync(join(root, 'cgroup.subtree_control'), 'cpuset cpu io memory hugetlb pids\n');
  writeFileSync(join(root, 'cgroup.procs'), '1\n');
  const parts = leaf.split('/');
  for (let i = 1; i <= parts.length; i++) {
    const d = join(root, ...parts.slice(0, i));
    mkdirSync(d);
    for (const f of i === parts.length ? LEAF_FILES : ['cgroup.procs', 'cgroup.controllers', 'cgroup.subtree_control']) writeFileSync(join(d, f), '');
    writeFileSync(join(d, 'cgroup.controllers'), 'cpuset cpu io memory hugetlb pids\n');
  }
  writeFileSync(join(root, leaf, 'cgroup.events'), 'populated 0\nfrozen 0\n');
  return root;
}

const MB = 1 << 20;
const read = (root: string, file: string, leaf = 'berth/c1') => readFileSync(join(root, leaf, file), 'utf8');

t.test('create converts v1 values to v2 files', async (t) => {
  const root = fakeRoot(t);
  const resources: Resources = {
    memory: { limit: 64 * MB, swap: 96 * MB, reservation: 16 * MB },
    cpu: { shares: 1024, quota: 20000, period: 50000, burst: 1000, cpus: '0-1', idle: 1 },
    pids: { limit: -1 },
    blockIO: { weight: 500, throttleReadBpsDevice: [{ major: 7, minor: 0, rate: MB }] },
    hugepageLimits: [{ pageSize: '2MB', limit: 4 * MB }],
    unified: { 'memory.high': '50000000' },
  };
  const cg = openCgroup({ root, version: 2, path: 'berth/c1', resources });
  await cg.create();
  t.equal(read(root, 'cgroup.subtree_control', 'berth'), '+cpuset +cpu +io +memory +hugetlb +pids', 'the parent enables what it has');
  t.equal(readFileSync(join(root, 'cgroup.subtree_control'), 'utf8'), 'cpuset cpu io memory hugetlb pids\n', "the root's is left alone");
  t.equal(read(root, 'cgroup.subtree_control'), '', 'nor is the leaf enabled: its processes live there');
  t.equal(read(root, 'memory.max'), String(64 * MB));
  t.equal(read(root, 'memory.swap.max'), String(32 * MB), 'memory+swap 96 MB less 64 MB memory');
  t.equal(read(root, 'memory.low'), String(16 * MB));
  t.equal(read(root, 'cpu.weight'), '39', 'shares 1024');
  t.equal(read(root, 'cpu.max'), '20000 50000');
  t.equal(read(root, 'cpu.max.burst'), '1000');
  t.equal(read(root, 'cpu.idle'), '1');
  t.equal(read(root, 'cpuset.cpus'), '0-1');
  t.equal(read(root, 'pids.max'), 'max');
  t.equal(read(root, 'io.weight'), '4950', 'blkio 500');
  t.equal(read(root, 'io.max'), `7:0 rbps=${MB}`);
  t.equal(read(root, 'hugetlb.2MB.max'), String(4 * MB));
  t.equal(read(root, 'memory.high'), '50000000', 'a unified key is a file name');
  await cg.addProcess(99);
  t.equal(read(root, 'cgroup.procs'), '99');
});

t.test('what v2 lacks, or a value it cannot take, names the field', async (t) => {
  const root = fakeRoot(t);
  const cases: [Resources, RegExp][] = [
    [{ cpu: { realtimeRuntime: 1000 } }, /^linux\.resources\.cpu\.realtimeRuntime: cgroup v2 has no realtime CPU limits/],
    [{ memory: { swappiness: 10 } }, /^linux\.resources\.memory\.swappiness: cgroup v2 has no per-cgroup swappiness/],
    [{ memory: { disableOOMKiller: true } }, /^linux\.resources\.memory\.disableOOMKiller: /],
    [{ memory: { limit: 64 * MB, swap: 32 * MB } }, /^linux\.resources\.memory\.swap: must be at least memory\.limit/],
    [{ network: { classID: 1 } }, /^linux\.resources\.network\.classID: cgroup v2 has no net_cls/],
    [{ blockIO: { leafWeight: 100 } }, /^linux\.resources\.blockIO\.leafWeight: cgroup v2 has no leaf weights/],
    [{ rdma: { mlx4_0: { hcaHandles: 1 } } }, /^linux\.resources\.rdma\["mlx4_0"\]: the rdma controller is not enabled for berth\/c1/],
    [{ unified: { 'nosuch.file': '1' } }, /^linux\.resources\.unified\["nosuch\.file"\]: ENOENT: .*is the nosuch controller enabled/],
    [{ devices: [{ allow: false, access: 'rwm' }] }, /^linux\.resources\.devices: E[A-Z]+: .*bpf/],
  ];
  for (const [resources, message] of cases) {
    const e = await openCgroup({ root, version: 2, path: 'berth/c1', resources }).create().then(() => undefined, (x: Error) => x);
    t.match(e?.message, message, JSON.stringify(resources));
  }
  const fresh = fakeRoot(t, 'a');
  const e = await openCgroup({ root: fresh, version: 2, path: 'a/b/c', resources: { pids: { limit: 5 } } }).create().then(() => undefined, (x: Error) => x);
  t.match(e, { field: 'linux.resources.pids.limit', message: /pids controller is not enabled/ }, 'a fresh fake directory has no cgroup.controllers');
  t.notOk(existsSync(join(fresh, 'a/b')), 'and the directories made for it are gone again');
  t.ok(existsSync(join(fresh, 'a')), 'the one that was there stays');
});

t.test('update keeps the swap it had when only the limit changes', async (t) => {
  const root = fakeRoot(t);
  const cg = openCgroup({ root, version: 2, path: 'berth/c1', resources: { memory: { limit: 32 * MB, swap: 64 * MB } } });
  await cg.create();
  await cg.update({ memory: { limit: 48 * MB } });
  t.equal(read(root, 'memory.max'), String(48 * MB));
  t.equal(read(root, 'memory.swap.max'), String(16 * MB), 'memory+swap stays 64 MB: 16 MB of swap now');
  writeFileSync(join(root, 'berth/c1/memory.current'), `${40 * MB}\n`);
  const e = await cg.update({ memory: { limit: 36 * MB, checkBeforeUpdate: true } }).then(() => undefined, (x: Error) => x);
  t.match(e?.message, /^linux\.resources\.memory\.limit: .* below the current usage/);
});

t.test('stats', async (t) => {
  const root = fakeRoot(t);
  const put = (f: string, v: string) => writeFileSync(join(root, 'berth/c1', f), v);
  put('cpu.stat', 'usage_usec 2000\nuser_usec 1500\nsystem_usec 500\nnr_periods 10\nnr_throttled 4\nthrottled_usec 300\n');
  put('memory.current', '2097152\n');
  put('memory.max', 'max\n');
  put('memory.stat', 'anon 1048576\nfile 4096\npgfault 30\npgmajfault 1\n');
  put('memory.events', 'low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n');
  put('pids.current', '2\n');
  put('pids.max', '32\n');
  put('io.stat', '7:0 rbytes=8192 wbytes=0 rios=2 wios=0 dbytes=0 dios=0\n');
  put('hugetlb.2MB.current', '0\n');
  put('hugetlb.2MB.events', 'max 0\n');
  const s = await openCgroup({ root, version: 2, path: 'berth/c1' }).stats();
  t.match(s.cpu.usage, { total: 2_000_000, user: 1_500_000, kernel: 500_000 });
  t.same(s.cpu.throttling, { periods: 10, throttledPeriods: 4, throttledTime: 300_000 });
  t.match(s.memory, { usage: { usage: 2 * MB, limit: -1, failcnt: 3 }, rss: MB, cache: 4096, pageFaults: 30, majorPageFaults: 1 });
  t.equal(s.memory.pageIn, undefined, 'v2 has no page in/out');
  t.equal(s.oomKills, 1);
  t.same(s.pids, { current: 2, limit: 32 });
  t.same(s.blkio.ioServiceBytes, [{ major: 7, minor: 0, op: 'Read', value: 8192 }, { major: 7, minor: 0, op: 'Write', value: 0 }]);
  t.same(s.blkio.ioServiced[0], { major: 7, minor: 0, op: 'Read', value: 2 });
  t.same(s.hugetlb['2MB'], { usage: 0, failcnt: 0 });
});

t.test('freeze waits for cgroup.events; a freeze that does not come is undone', async (t) => {
  const root = fakeRoot(t);
  const cg = openCgroup({ root, version: 2, path: 'berth/c1' });
  setTimeout(() => writeFileSync(join(root, 'berth/c1/cgroup.events'), 'populated 1\nfrozen 1\n'), 30);
  await cg.freeze(2000);
  t.equal(read(root, 'cgroup.freeze'), '1');
  t.equal(await cg.freezerState(), 'frozen');
  await cg.thaw();
  writeFileSync(join(root, 'berth/c1/cgroup.events'), 'populated 1\nfrozen 0\n');
  t.equal(await cg.freezerState(), 'thawed');
  const e = await cg.freeze(100).then(() => undefined, (x: Error) => x);
  t.match(e, { code: 'ETIMEDOUT', step: 'pause' });
  t.equal(read(root, 'cgroup.freeze'), '0', 'thawed again');
});

t.test('killAll writes cgroup.kill and waits until the cgroup is empty', async (t) => {
  const root = fakeRoot(t);
  writeFileSync(join(root, 'berth/c1/cgroup.events'), 'populated 1\nfrozen 0\n');
  const cg = openCgroup({ root, version: 2, path: 'berth/c1' });
  setTimeout(() => writeFileSync(join(root, 'berth/c1/cgroup.events'), 'populated 0\nfrozen 0\n'), 30);
  await cg.killAll(2000);
  t.equal(read(root, 'cgroup.kill'), '1');
});

t.test('a cgroup holding the caller is neither frozen nor killed', async (t) => {
  const root = fakeRoot(t);
  writeFileSync(join(root, 'berth/c1/cgroup.procs'), `${process.pid}\n`);
  writeFileSync(join(root, 'berth/c1/cgroup.events'), 'populated 1\nfrozen 0\n');
  const cg = openCgroup({ root, version: 2, path: 'berth/c1' });
  await t.rejects(cg.freeze(), { code: 'EDEADLK' });
  await t.rejects(cg.destroy(), { code: 'EDEADLK' });
  t.equal(read(root, 'cgroup.kill'), '', 'not killed');
});
