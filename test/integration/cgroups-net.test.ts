// v1 net_cls and net_prio on the real kernel. This host has them compiled
// in but not mounted, so the test mounts a net_cls,net_prio hierarchy on a
// temporary directory, points the v1 driver's root there, and unmounts it
// afterwards with no cgroup left in it. (The kernel may keep the hierarchy
// itself after the unmount, with every process at its root; a later mount
// of the same controllers finds it again.)
import t from 'tap';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openCgroup } from '../../src/cgroups/index.js';

/** /proc/cgroups: the controllers the kernel has enabled. */
const enabled = new Set(readFileSync('/proc/cgroups', 'utf8').split('\n').slice(1).map((l) => l.split('\t')).filter((f) => f[3] === '1').map((f) => f[0]));
const mounted = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some((l) => / - cgroup \S+ \S*net_(cls|prio)/.test(l));
const skip = (!enabled.has('net_cls') || !enabled.has('net_prio') || mounted) && 'needs net_cls and net_prio enabled and not mounted (cgroup v1)';

/** A net_cls,net_prio hierarchy on a temporary directory: the root to give the driver. */
function mountHierarchy(t: { teardown(fn: () => void): void }): { root: string; mnt: string } {
  const root = mkdtempSync(join(tmpdir(), 'berth-netcg-'));
  const mnt = join(root, 'net_cls,net_prio');
  mkdirSync(mnt);
  try {
    execFileSync('mount', ['-t', 'cgroup', '-o', 'net_cls,net_prio', 'berth-test', mnt], { stdio: 'pipe' });
  } catch (e) {
    rmdirSync(mnt);
    rmdirSync(root);
    throw e;
  }
  t.teardown(() => {
    execFileSync('umount', [mnt]);
    rmdirSync(mnt);
    rmdirSync(root);
  });
  return { root, mnt };
}

t.test('classid and ifpriomap are written, at create and on update', { skip }, async (t) => {
  const { root, mnt } = mountHierarchy(t);
  const path = `berth-net-${process.pid}`;
  const cg = openCgroup({ root, version: 1, path, resources: { network: { classID: 0x100001, priorities: [{ name: 'lo', priority: 5 }] } } });
  await cg.create();
  t.teardown(() => cg.destroy());
  const dir = join(mnt, path);
  const read = (f: string) => readFileSync(join(dir, f), 'utf8');
  t.equal(read('net_cls.classid').trim(), String(0x100001), 'classid 10:1');
  t.match(read('net_prio.ifpriomap'), /^lo 5$/m, 'lo at priority 5');

  const p = spawn('sleep', ['30'], { stdio: 'ignore' });
  const exited = new Promise((r) => p.on('exit', r));
  await cg.addProcess(p.pid!);
  t.match(readFileSync(`/proc/${p.pid}/cgroup`, 'utf8'), new RegExp(`^\\d+:net_cls,net_prio:/${path}$`, 'm'), 'a process joins it');
  await cg.update({ network: { classID: 0x100002, priorities: [{ name: 'lo', priority: 7 }] } });
  t.equal(read('net_cls.classid').trim(), String(0x100002), 'classid updated live');
  t.match(read('net_prio.ifpriomap'), /^lo 7$/m, 'priority updated live');
  t.same(await cg.pids(), [p.pid], 'pids() lists it');

  await cg.destroy();
  await exited;
  t.notOk(existsSync(dir), 'destroy killed the process and removed the cgroup');
});

t.test('an interface that does not exist names the field, and nothing is left', { skip }, async (t) => {
  const { root, mnt } = mountHierarchy(t);
  const path = `berth-net-bad-${process.pid}`;
  const cg = openCgroup({ root, version: 1, path, resources: { network: { priorities: [{ name: 'nosuch0', priority: 1 }] } } });
  await t.rejects(cg.create(), /^linux\.resources\.network\.priorities\[0\]: ENODEV/);
  t.notOk(existsSync(join(mnt, path)), 'no cgroup');
});
