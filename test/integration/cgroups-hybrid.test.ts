// The v2 driver on this host's own cgroup2 mount, when it is a hybrid v1 host
// (/sys/fs/cgroup/unified, no controllers, but eBPF device programs, the
// freezer and cgroup.kill work there): a real-kernel check of those parts
// of the v2 driver on every run, before the full suite in the v2 guest.
import t from 'tap';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openCgroup } from '../../src/cgroups/index.js';

const UNIFIED = '/sys/fs/cgroup/unified';
const hybrid = existsSync(join(UNIFIED, 'cgroup.controllers'));
const path = `berth/hybrid-${process.pid}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A shell that waits for a line on stdin, then runs `script`; it joins the cgroup in between. */
function shell(script: string): { p: ChildProcess; out: () => string; go: () => void } {
  const p = spawn('sh', ['-c', `read go; ${script}`], { stdio: ['pipe', 'pipe', 'pipe'] });
  let text = '';
  p.stdout!.on('data', (d) => (text += d));
  p.stderr!.on('data', (d) => (text += d));
  return { p, out: () => text, go: () => p.stdin!.write('go\n') };
}
const exited = (p: ChildProcess) => new Promise((r) => (p.exitCode !== null || p.signalCode ? r(p.exitCode) : p.on('exit', r)));

t.test('eBPF device policy, freezer and kill on the hybrid cgroup2 mount', { skip: !hybrid && 'not a hybrid v1 host' }, async (t) => {
  const cg = openCgroup({
    root: UNIFIED,
    version: 2,
    path,
    resources: { devices: [{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 10, minor: 237, access: 'r' }] },
  });
  await cg.create();
  t.teardown(() => cg.destroy());

  const s = shell('exec 3</dev/loop-control && echo r-ok; (exec 4<>/dev/loop-control) 2>/dev/null || echo w-denied; (exec 5</dev/loop0) 2>/dev/null || echo loop0-denied; exec 6>/dev/null && echo null-ok');
  await cg.addProcess(s.p.pid!);
  s.go();
  await exited(s.p);
  t.equal(s.out(), 'r-ok\nw-denied\nloop0-denied\nnull-ok\n', 'the program allows what the rules say, and the default devices');

  await cg.update({ devices: [{ allow: true, access: 'rwm' }] });
  const open = shell('(exec 5</dev/loop0) && echo loop0-ok');
  await cg.addProcess(open.p.pid!);
  open.go();
  await exited(open.p);
  t.equal(open.out(), 'loop0-ok\n', 'an update replaces the program');

  const counter = shell('i=0; while :; do i=$((i+1)); echo $i; sleep 0.02; done');
  await cg.addProcess(counter.p.pid!);
  counter.go();
  await sleep(200);
  await cg.freeze();
  t.equal(await cg.freezerState(), 'frozen');
  await sleep(100); // what was written before the freeze may still be in the pipe
  const n = counter.out().length;
  await sleep(300);
  t.equal(counter.out().length, n, 'no progress while frozen');
  await cg.thaw();
  await sleep(200);
  t.ok(counter.out().length > n, 'progress after thaw');

  // A nested cgroup with a process in it: killAll and destroy reach it.
  mkdirSync(join(UNIFIED, path, 'sub'));
  const nested = shell('sleep 60');
  const nestedCg = openCgroup({ root: UNIFIED, version: 2, path: `${path}/sub` });
  await nestedCg.addProcess(nested.p.pid!);
  const pids = await cg.pids();
  t.ok(pids.includes(counter.p.pid!) && pids.includes(nested.p.pid!), 'pids() lists the nested cgroup too');
  await cg.freeze();
  await cg.killAll();
  t.same(await cg.pids(), [], 'cgroup.kill kills frozen processes too');
  await Promise.all([exited(counter.p), exited(nested.p), exited(s.p)]);
  await cg.destroy();
  t.notOk(existsSync(join(UNIFIED, path)), 'removed, nested one included');
  t.match(readFileSync(join(UNIFIED, 'cgroup.subtree_control'), 'utf8'), /^$/m, "the root's subtree_control was not touched");
});
