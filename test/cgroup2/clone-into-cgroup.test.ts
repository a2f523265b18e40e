// cgroup v2 only: the container's process is created in its cgroup
// (clone3 CLONE_INTO_CGROUP), so the setup process that monitors it stays
// outside: pids.current counts the container's own processes, killAll and
// freeze touch only them. Inside a user namespace (no write permission on
// the cgroup for clone3) Node moves the process in before it goes on.
import t, { type Test } from 'tap';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { create, type Spec } from '../../src/index.js';
import { cgroupVersion } from '../../src/cgroups/index.js';
import { spec } from '../helpers.js';

const v2 = cgroupVersion() === 2;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const ppid = (pid: number) => Number(readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ')[1]);
const cgroupOf = (pid: number) => readFileSync(`/proc/${pid}/cgroup`, 'utf8').trim();

async function check(t: Test, edit?: (s: Spec) => void) {
  const c = await create({ spec: spec(['sh', '-c', 'sleep 60 & sleep 60 & cat /proc/self/cgroup; read x'], (s) => {
    s.linux!.namespaces!.push({ type: 'cgroup' });
    edit?.(s);
  }) });
  t.teardown(() => c.delete({ force: true }));
  let out = '';
  c.stdout!.on('data', (d) => (out += d));
  await c.start();
  for (let i = 0; i < 1000 && !out.includes('\n'); i++) await sleep(20);
  const dir = `/sys/fs/cgroup/berth/${c.id}`;
  const current = () => Number(readFileSync(join(dir, 'pids.current'), 'utf8'));
  for (let i = 0; i < 250 && current() !== 3; i++) await sleep(20);
  t.equal(current(), 3, 'pids.current: sh and its two sleeps, nothing else');
  const procs = readFileSync(join(dir, 'cgroup.procs'), 'utf8').trim().split('\n').map(Number);
  t.ok(procs.includes(c.pid), 'the container process is in its cgroup');
  const monitor = ppid(c.pid);
  t.notOk(procs.includes(monitor), 'the monitor is not');
  t.not(cgroupOf(monitor), `0::/berth/${c.id}`, `the monitor's /proc/PID/cgroup: ${cgroupOf(monitor)}`);
  t.same((await c.pids()).sort(), procs.sort(), 'pids() lists the container processes, only them');
  t.equal((await c.stats()).pids.current, 3, 'stats count them');
  t.equal(out, '0::/\n', 'a cgroup namespace made with the process is rooted at its cgroup');
  c.stdin!.end('\n');
  t.same(await c.wait(), { exitCode: 0 });
  await c.delete();
}

t.test('the container process is cloned into its cgroup; the monitor stays outside', { skip: !v2 && 'not a cgroup v2 host' }, (t) => check(t));

t.test('in a user namespace (clone3 may not write the cgroup) it is moved in before it goes on', { skip: !v2 && 'not a cgroup v2 host' }, (t) =>
  check(t, (s) => {
    s.linux!.namespaces!.push({ type: 'user' });
    s.linux!.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    s.linux!.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
  }),
);

t.test('cgroup.kill kills the container and spares the monitor, which reports the exit', { skip: !v2 && 'not a cgroup v2 host' }, async (t) => {
  const c = await create({ spec: spec(['sh', '-c', 'sleep 60 & wait']) });
  t.teardown(() => c.delete({ force: true }));
  await c.start();
  writeFileSync(`/sys/fs/cgroup/berth/${c.id}/cgroup.kill`, '1');
  t.same(await c.wait(), { exitCode: 137, signal: 'SIGKILL' });
});
