// Resource limits on the real kernel, through the library: memory (OOM kill
// and its event), CPU quota, pids, block I/O throttling, devices, freezer,
// live update, metrics and clean removal. Written against the library only,
// so the same file runs on a v1 host and, through test/cgroup2, in the v2 guest.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { create, type Container, type ContainerEvent, type Spec } from '../../src/index.js';
import { cgroupVersion } from '../../src/cgroups/index.js';
import { spec } from '../helpers.js';

const V = cgroupVersion();
const MB = 1 << 20;
const ROOT = '/sys/fs/cgroup';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The container's cgroup directories: one per v1 hierarchy, or the v2 one. */
function cgroupDirs(path: string): string[] {
  if (V === 2) return [join(ROOT, path)];
  return readdirSync(ROOT).map((h) => join(ROOT, h, path));
}

/** A started container whose stdout is collected; `until` waits for text in it. */
async function started(script: string, edit?: (s: Spec) => void, id?: string) {
  const c = await create({ id, spec: spec(['sh', '-c', script], edit) });
  let text = '';
  c.stdout!.on('data', (d: Buffer) => (text += d.toString()));
  c.stderr!.on('data', (d: Buffer) => (text += d.toString()));
  await c.start();
  const until = async (re: RegExp, ms = 60_000) => {
    for (const end = Date.now() + ms; !re.test(text); await sleep(20)) if (Date.now() > end) throw new Error(`no ${re} in ${JSON.stringify(text)}`);
  };
  return { c, out: () => text, until };
}

/** Deletes the container even when a test failed half way. */
function cleanup(t: Tap, c: Container) {
  t.teardown(() => c.delete({ force: true }).catch(() => {}));
}
type Tap = { teardown(fn: () => unknown): void };

const resources = (r: NonNullable<Spec['linux']>['resources']) => (s: Spec) => {
  s.linux!.resources = { ...s.linux!.resources, ...r };
};

t.test('a memory hog under 32 MB is OOM-killed; the event arrives and the exit says so', async (t) => {
  const c = await create({ spec: spec(['dd', 'if=/dev/zero', 'of=/dev/null', 'bs=64M', 'count=1'], resources({ memory: { limit: 32 * MB, swap: 32 * MB } })) });
  cleanup(t, c);
  const events = c.events();
  await c.start();
  let timer: NodeJS.Timeout | undefined;
  const first = Promise.race([events.next(), new Promise<{ value: undefined }>((res) => (timer = setTimeout(() => res({ value: undefined }), 60_000)))]);
  const r = await c.wait();
  t.match(r, { exitCode: 137, signal: 'SIGKILL', oomKilled: true });
  const e = (await first).value as ContainerEvent | undefined;
  clearTimeout(timer);
  t.match(e, { type: 'oom', id: c.id }, 'an oom event');
  t.ok((await c.stats()).oomKills >= 1, 'stats count the kill');
  await c.delete();
  t.same(await events.next(), { value: undefined, done: true }, 'the event stream ends with the container');
});

t.test('a process that fits is not oomKilled', async (t) => {
  const { c } = await started('dd if=/dev/zero of=/dev/null bs=4M count=1 2>/dev/null', resources({ memory: { limit: 32 * MB } }));
  cleanup(t, c);
  t.same(await c.wait(), { exitCode: 0 });
});

t.test('a busy loop under a 20% CPU quota gets about 20% of a core', async (t) => {
  const { c } = await started('while :; do :; done', resources({ cpu: { quota: 20000, period: 100000 } }));
  cleanup(t, c);
  await sleep(200);
  const a = await c.stats();
  const t0 = process.hrtime.bigint();
  await sleep(2000);
  const b = await c.stats();
  const wall = Number(process.hrtime.bigint() - t0);
  const share = (b.cpu.usage.total - a.cpu.usage.total) / wall;
  t.ok(share > 0.1 && share < 0.3, `${(share * 100).toFixed(1)}% of a core over ${(wall / 1e9).toFixed(2)} s`);
  t.ok(b.cpu.throttling.throttledPeriods > a.cpu.throttling.throttledPeriods, `throttled periods grow: ${a.cpu.throttling.throttledPeriods} → ${b.cpu.throttling.throttledPeriods}`);
  t.ok(b.cpu.throttling.throttledTime > a.cpu.throttling.throttledTime, 'throttled time grows');
});

t.test('a fork bomb under pids.limit 32 is contained', async (t) => {
  // Each shell forks two more and a sleep; ash gives up when a fork fails, so the tree stays near the limit for a while.
  const { c, until } = await started('echo go; b() { b & b & sleep 5; }; b 2>/dev/null', resources({ pids: { limit: 32 } }));
  cleanup(t, c);
  await until(/go/);
  let peak = 0;
  for (const end = Date.now() + 1000; Date.now() < end; await sleep(10)) peak = Math.max(peak, (await c.stats()).pids.current);
  const s = await c.stats();
  t.ok(peak <= 32 && peak > 8, `at most ${peak} processes at a time`);
  t.equal(s.pids.limit, 32);
  const events = cgroupDirs(`berth/${c.id}`).map((d) => join(d, 'pids.events')).find(existsSync)!;
  t.match(readFileSync(events, 'utf8'), /^max [1-9]/m, 'the kernel refused forks');
  await c.delete({ force: true });
  for (const d of cgroupDirs(`berth/${c.id}`)) t.notOk(existsSync(d), `${d} is gone`);
});

t.test('a denied device cannot be opened; an allowed one can', async (t) => {
  // /dev/loop-control (c 10:237) bound in from the host: the node is there, the cgroup says no.
  const withDev = (allow: boolean) => (s: Spec) => {
    s.mounts!.push({ destination: '/dev/loop-control', type: 'bind', source: '/dev/loop-control', options: ['bind'] });
    if (allow) s.linux!.resources!.devices!.push({ allow: true, type: 'c', major: 10, minor: 237, access: 'r' });
  };
  const denied = await started('exec 3</dev/loop-control && echo opened; echo done', withDev(false));
  cleanup(t, denied.c);
  await denied.c.wait();
  t.match(denied.out(), /Operation not permitted/);
  t.notMatch(denied.out(), /opened/);
  const allowed = await started('exec 3</dev/loop-control && echo opened; (exec 4<>/dev/loop-control) 2>/dev/null || echo no-write; exec 5>/dev/null && echo null', withDev(true));
  cleanup(t, allowed.c);
  await allowed.c.wait();
  t.equal(allowed.out(), 'opened\nno-write\nnull\n', 'the rule allows reading, not writing; /dev/null is always allowed');
});

t.test('a live device update never denies what stays allowed, with a child cgroup present', async (t) => {
  // /dev/null is allowed throughout; /dev/loop-control (c 10:237, bound in) is added and taken away again and again.
  const script = '(n=0; while :; do true </dev/null || echo FAIL; n=$((n+1)); [ $((n % 500)) = 0 ] && echo tick$n; done) & while read cmd; do eval "$cmd"; done';
  const { c, out, until } = await started(script, (s) => s.mounts!.push({ destination: '/dev/loop-control', type: 'bind', source: '/dev/loop-control', options: ['bind'] }));
  cleanup(t, c);
  const probe = async (want: string) => {
    const mark = `m${Math.random().toString(36).slice(2)}`;
    c.stdin!.write(`(: </dev/loop-control) 2>/dev/null && echo ${mark}-open || echo ${mark}-denied\n`);
    await until(new RegExp(`${mark}-(open|denied)`));
    t.match(out(), new RegExp(`${mark}-${want}`), `/dev/loop-control: ${want}`);
  };
  await until(/tick/);
  await probe('denied');
  // A cgroup below the container's (in the devices hierarchy on v1): the kernel refuses a write of "a" then.
  const devDir = cgroupDirs(`berth/${c.id}`).find((d) => existsSync(join(d, V === 1 ? 'devices.list' : 'cgroup.procs')))!;
  mkdirSync(join(devDir, 'child'));
  const base = spec([]).linux!.resources!.devices!;
  const rounds = V === 1 ? 200 : 10;
  for (let i = 0; i < rounds; i++) {
    await c.update({ devices: [...base, { allow: true, type: 'c', major: 10, minor: 237, access: 'r' }] });
    if (i === 0) await probe('open');
    await c.update({ devices: base });
    if (i === 0) await probe('denied');
  }
  await c.update({ devices: [...base, { allow: true, type: 'c', major: 10, minor: 237, access: 'r' }] });
  await probe('open');
  const ticks = Number(/tick(\d+)\n(?![\s\S]*tick)/.exec(out())?.[1]);
  await until(new RegExp(`tick${ticks + 1000}`));
  t.notMatch(out(), /FAIL/, `/dev/null opened ${ticks} times during ${2 * rounds + 1} updates, never refused`);
  if (V === 1) t.notMatch(readFileSync(join(devDir, 'devices.list'), 'utf8'), /^a /m, 'the container cgroup still denies by default');
});

t.test('a paused container makes no progress, then resumes', async (t) => {
  const { c, out, until } = await started('i=0; while :; do i=$((i+1)); echo $i; sleep 0.02; done');
  cleanup(t, c);
  await until(/\n5\n/);
  await c.pause();
  t.equal(c.status, 'paused');
  await sleep(100); // what was written before the freeze may still be in the pipe
  const before = out().length;
  await sleep(500);
  t.equal(out().length, before, 'no output while frozen');
  const s = await c.stats();
  await sleep(300);
  t.equal((await c.stats()).cpu.usage.total, s.cpu.usage.total, 'no CPU time while frozen');
  await c.resume();
  t.equal(c.status, 'running');
  const n = Number(out().trim().split('\n').pop());
  await until(new RegExp(`\\n${n + 5}\\n`));
  t.pass('counting again');
  await c.pause();
  await c.delete({ force: true });
  t.pass('a paused container can be deleted');
});

t.test('a live update raises the memory limit, and the workload then fits', async (t) => {
  const c = await create({ spec: spec(['sh', '-c', 'read go; dd if=/dev/zero of=/dev/null bs=48M count=1 2>/dev/null && echo fits'], resources({ memory: { limit: 24 * MB } })) });
  cleanup(t, c);
  let text = '';
  c.stdout!.on('data', (d: Buffer) => (text += d));
  await c.start();
  t.equal((await c.stats()).memory.usage.limit, 24 * MB);
  await c.update({ memory: { limit: 96 * MB } });
  t.equal((await c.stats()).memory.usage.limit, 96 * MB, 'the new limit is in force');
  c.stdin!.end('go\n');
  t.same(await c.wait(), { exitCode: 0 });
  t.equal(text, 'fits\n');
  await t.rejects(c.update({ memory: { limit: -5 } }), /linux\.resources\.memory\.limit: must be -1/, 'a bad update names the field');
});

t.test('metrics change as the workload runs', async (t) => {
  const { c, until } = await started('echo a; read x; dd if=/dev/zero of=/dev/null bs=8M count=200; sleep 30 & sleep 30 & echo b; read y');
  cleanup(t, c);
  await until(/a/);
  const a = await c.stats();
  c.stdin!.write('\n');
  await until(/b/);
  const b = await c.stats();
  t.ok(b.cpu.usage.total > a.cpu.usage.total, `cpu ${a.cpu.usage.total} → ${b.cpu.usage.total} ns`);
  t.ok(b.cpu.usage.user + b.cpu.usage.kernel > 0, 'user and system time');
  t.ok(b.memory.usage.usage > 0, `memory in use: ${b.memory.usage.usage}`);
  t.ok((b.memory.usage.maxUsage ?? 8 * MB) >= 8 * MB, `peak usage ${b.memory.usage.maxUsage} holds the 8 MB buffer`);
  t.ok(b.memory.pageFaults > a.memory.pageFaults, `page faults ${a.memory.pageFaults} → ${b.memory.pageFaults}`);
  t.ok(b.pids.current >= a.pids.current + 2, `pids ${a.pids.current} → ${b.pids.current}`);
  if (V === 1) t.ok((b.cpu.usage.percpu ?? []).length > 0, 'per-cpu usage on v1');
  t.ok((await c.pids()).includes(c.pid), 'pids() lists the container process');
  const ev = c.events({ interval: 100 });
  const { value } = await ev.next();
  t.match(value, { type: 'stats', id: c.id, data: { pids: { current: Number } } }, 'stats events');
  await ev.return!();
});

t.test('block reads of a loop device under a 1 MB/s limit run at about that rate', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-cgroups-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const img = join(dir, 'disk.img');
  writeFileSync(img, Buffer.alloc(4 * MB, 1));
  const dev = execFileSync('losetup', ['--find', '--show', img], { encoding: 'utf8' }).trim();
  t.teardown(() => execFileSync('losetup', ['-d', dev]));
  const [major, minor] = execFileSync('stat', ['-c', '%t %T', dev], { encoding: 'utf8' }).trim().split(' ').map((x) => parseInt(x, 16));
  const { c, out } = await started('time dd if=/dev/disk of=/dev/null bs=64k count=32 iflag=direct 2>&1', (s) => {
    s.linux!.devices = [{ type: 'b', path: '/dev/disk', major: major!, minor: minor!, fileMode: 0o600 }];
    s.linux!.resources!.blockIO = { throttleReadBpsDevice: [{ major: major!, minor: minor!, rate: MB }] };
  });
  cleanup(t, c);
  t.same(await c.wait(), { exitCode: 0 }, out());
  // busybox time: "real\t0m 2.00s", measured inside, so a slow start does not count.
  const m = /real\s+(\d+)m ([\d.]+)s/.exec(out());
  const secs = Number(m?.[1]) * 60 + Number(m?.[2]);
  t.ok(secs > 1.3 && secs < 4, `2 MB in ${secs.toFixed(2)} s`);
  const s = await c.stats();
  const read = s.blkio.ioServiceBytes.filter((e) => e.major === major && e.minor === minor && e.op === 'Read').reduce((n, e) => n + e.value, 0);
  t.ok(read >= 2 * MB, `${read} bytes read from ${major}:${minor}, as the I/O stats count them`);
});

t.test('delete removes every cgroup, nested ones included', async (t) => {
  const id = `cg-nested-${process.pid}`;
  const { c, until } = await started('sleep 60 & echo $!; wait', undefined, id);
  cleanup(t, c);
  await until(/\d+\n/);
  // A cgroup the workload made below its own, with a process of its in it.
  const child = (await c.pids()).find((p) => p !== c.pid && execFileSync('cat', [`/proc/${p}/comm`], { encoding: 'utf8' }).trim() === 'sleep')!;
  for (const d of cgroupDirs(`berth/${id}`)) {
    if (!existsSync(join(d, 'cgroup.procs'))) continue;
    mkdirSync(join(d, 'sub', 'deeper'), { recursive: true });
    if (d.includes('/unified/')) continue;
    if (V === 1 && existsSync(join(d, 'cpuset.cpus')))
      for (const sub of ['sub', 'sub/deeper'])
        for (const f of ['cpuset.cpus', 'cpuset.mems']) writeFileSync(join(d, sub, f), readFileSync(join(d, f)));
    writeFileSync(join(d, 'sub', 'deeper', 'cgroup.procs'), String(child));
  }
  await c.delete({ force: true });
  for (const d of cgroupDirs(`berth/${id}`)) t.notOk(existsSync(d), `${d} removed`);
  t.notOk(existsSync(`/proc/${child}/comm`) && execFileSync('cat', [`/proc/${child}/comm`], { encoding: 'utf8' }).trim() === 'sleep', 'its process is gone');
});

t.test('cgroupsPath places the container there; a cgroup namespace is rooted there', async (t) => {
  const path = `/berth/pod-${process.pid}/ctr`;
  const { c, out } = await started('cat /proc/self/cgroup', (s) => {
    s.linux!.cgroupsPath = path;
    s.linux!.namespaces!.push({ type: 'cgroup' });
  });
  cleanup(t, c);
  await c.wait();
  const lines = out().trim().split('\n');
  t.ok(lines.length >= 1 && lines.every((l) => l.endsWith(':/')), `in a cgroup namespace made after joining, its cgroup is the root: ${lines.join(' ')}`);
  for (const d of cgroupDirs(path.slice(1))) t.ok(existsSync(d), `${d} exists while the container does`);
  await c.delete();
  for (const d of cgroupDirs(path.slice(1))) t.notOk(existsSync(d), `${d} removed`);
  // The parent was made for it and stays, as runc leaves it: the test removes it.
  for (const d of cgroupDirs(`berth/pod-${process.pid}`)) rmdirSync(d);
});

t.test('bad values name the field and leave no cgroup', async (t) => {
  const cases: [NonNullable<Spec['linux']>['resources'], RegExp][] = [
    [{ cpu: { cpus: '64-65' } }, /^linux\.resources\.cpu\.cpus: E[A-Z]+: .*cpuset\.cpus/],
    [{ blockIO: { throttleReadBpsDevice: [{ major: 251, minor: 251, rate: MB }] } }, /^linux\.resources\.blockIO\.throttleReadBpsDevice\[0\]: E[A-Z]+: /],
    [{ blockIO: { weight: 5 } }, /^linux\.resources\.blockIO\.weight: must be between 10 and 1000/],
    [{ cpu: { shares: 1 } }, /^linux\.resources\.cpu\.shares: must be between 2 and 262144/],
    [{ memory: { limit: 32 * MB, swap: 16 * MB } }, /^linux\.resources\.memory\.swap: must be at least memory\.limit/],
  ];
  for (const [r, message] of cases) {
    const id = `cg-bad-${process.pid}`;
    const e = await create({ id, spec: spec(['true'], resources(r)) }).then((c) => c.delete({ force: true }), (x: Error) => x);
    t.match((e as Error)?.message, message, JSON.stringify(r));
    t.match(e, { containerId: id });
    for (const d of cgroupDirs(`berth/${id}`)) t.notOk(existsSync(d), `no ${d}`);
  }
});

t.test('a memory limit too small to start in says so', async (t) => {
  const e = await create({ spec: spec(['true'], resources({ memory: { limit: 64 * 1024 } })) }).then((c) => c.delete({ force: true }), (x: Error) => x);
  t.match(e, { hint: /memory limit/ });
});
