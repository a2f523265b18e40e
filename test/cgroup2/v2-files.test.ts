// cgroup v2 only: what the driver writes, read back from the kernel's files;
// controllers enabled in the parents; the cgroup namespace; unified keys.
import t from 'tap';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { create } from '../../src/index.js';
import { cgroupVersion } from '../../src/cgroups/index.js';
import { spec } from '../helpers.js';

const v2 = cgroupVersion() === 2;
const MB = 1 << 20;

t.test('v1 values land in v2 files, converted', { skip: !v2 && 'not a cgroup v2 host' }, async (t) => {
  const c = await create({
    spec: spec(['sh', '-c', 'cat /proc/self/cgroup; read x'], (s) => {
      s.linux!.namespaces!.push({ type: 'cgroup' });
      s.linux!.resources = {
        ...s.linux!.resources,
        memory: { limit: 64 * MB, swap: 96 * MB, reservation: 8 * MB },
        cpu: { shares: 512, quota: 50000, period: 100000, cpus: '0' },
        pids: { limit: 50 },
        blockIO: { weight: 100 },
        unified: { 'memory.high': String(60 * MB) },
      };
    }),
  });
  t.teardown(() => c.delete({ force: true }));
  let out = '';
  c.stdout!.on('data', (d) => (out += d));
  await c.start();
  const dir = `/sys/fs/cgroup/berth/${c.id}`;
  const read = (f: string) => readFileSync(join(dir, f), 'utf8').trim();
  t.equal(read('memory.max'), String(64 * MB));
  t.equal(read('memory.swap.max'), String(32 * MB), 'OCI swap 96 MB = 64 MB memory + 32 MB swap');
  t.equal(read('memory.low'), String(8 * MB));
  t.equal(read('memory.high'), String(60 * MB), 'unified key');
  t.equal(read('cpu.weight'), '20', 'shares 512');
  t.equal(read('cpu.max'), '50000 100000');
  t.equal(read('cpuset.cpus'), '0');
  t.equal(read('pids.max'), '50');
  if (existsSync(join(dir, 'io.bfq.weight'))) t.match(read('io.bfq.weight'), /100/, 'BFQ takes blkio weights as they are');
  else t.equal(read('io.weight').replace(/^default /, ''), '910', 'blkio 100 → io.weight 910');
  const parent = readFileSync('/sys/fs/cgroup/berth/cgroup.subtree_control', 'utf8');
  for (const ctl of ['cpu', 'memory', 'pids', 'io', 'cpuset']) t.match(parent, new RegExp(`\\b${ctl}\\b`), `berth enables ${ctl} for its children`);
  for (let i = 0; i < 500 && !out; i++) await new Promise((r) => setTimeout(r, 20));
  t.equal(out, '0::/\n', 'in its own cgroup namespace the container is at the root');
  c.stdin!.end('\n');
  await c.wait();
  await c.delete();
  t.notOk(existsSync(dir), 'removed');
});

t.test('swap semantics on v2: limit -1 makes swap unlimited too', { skip: !v2 && 'not a cgroup v2 host' }, async (t) => {
  const c = await create({ spec: spec(['true'], (s) => (s.linux!.resources = { ...s.linux!.resources, memory: { limit: -1 } })) });
  t.teardown(() => c.delete({ force: true }));
  t.equal(readFileSync(`/sys/fs/cgroup/berth/${c.id}/memory.max`, 'utf8').trim(), 'max');
  t.equal(readFileSync(`/sys/fs/cgroup/berth/${c.id}/memory.swap.max`, 'utf8').trim(), 'max');
});

t.test('hugetlb limits', { skip: (!v2 || !existsSync('/sys/kernel/mm/hugepages/hugepages-2048kB')) && 'needs cgroup v2 and 2 MB huge pages' }, async (t) => {
  const c = await create({ spec: spec(['true'], (s) => (s.linux!.resources = { ...s.linux!.resources, hugepageLimits: [{ pageSize: '2MB', limit: 4 * MB }] })) });
  t.teardown(() => c.delete({ force: true }));
  t.equal(readFileSync(`/sys/fs/cgroup/berth/${c.id}/hugetlb.2MB.max`, 'utf8').trim(), String(4 * MB));
  t.match((await c.stats()).hugetlb['2MB'], { usage: 0, failcnt: 0 });
  const e = await create({ spec: spec(['true'], (s) => (s.linux!.resources = { hugepageLimits: [{ pageSize: '3MB', limit: MB }] })) }).then(() => undefined, (x: Error) => x);
  t.match(e?.message, /^linux\.resources\.hugepageLimits\[0\]\.limit: this host has no 3MB huge pages/);
});
