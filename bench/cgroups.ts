// Two cgroup questions (issue 4):
//  1. the smallest memory limit under which /bin/true runs in a berth
//     container (crun's headline: 512 KB, where runc fails at 4 MB);
//  2. the time to create, apply and destroy one container's cgroup set.
//
//   npx tsc -p . && node dist/bench/cgroups.js [--runs 200]
//
// Run it as root, on the v1 host and in the v2 guest
// (../shared/tools/cgroup2-vm -- node dist/bench/cgroups.js --runs 50).
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { parseArgs } from 'node:util';
import { cgroupVersion, openCgroup } from '../src/cgroups/index.js';
import { create, defaultSpec, type Container, type Resources } from '../src/index.js';
import { rootfs } from '../test/helpers.js';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '200' } } });
const runs = Number(values.runs);
const KB = 1024;

async function trueRuns(limit: number): Promise<boolean> {
  const spec = defaultSpec();
  spec.process!.terminal = false;
  spec.process!.args = ['/bin/true'];
  spec.root = { path: rootfs, readonly: true };
  // memory+swap = memory: no swap to hide in.
  spec.linux!.resources = { ...spec.linux!.resources, memory: { limit, swap: limit } };
  let c: Container | undefined;
  let timer: NodeJS.Timeout | undefined;
  try {
    c = await create({ spec, stdio: 'ignore' });
    await c.start();
    // Under a limit this small a process may also thrash in reclaim (its own text pages) rather than die: a failure too.
    const r = await Promise.race([c.wait(), new Promise<undefined>((res) => (timer = setTimeout(() => res(undefined), 15_000)))]);
    return r?.exitCode === 0 && !r.oomKilled;
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
    await c?.delete({ force: true });
  }
}

/** Bisects in 4 KB pages between a limit that fails and one that works; each point must pass 3 times. */
async function smallestLimit(): Promise<{ works: number; fails: number }> {
  let fails = 4 * KB;
  let works = 64 * 1024 * KB;
  const ok = async (l: number) => (await trueRuns(l)) && (await trueRuns(l)) && (await trueRuns(l));
  if (!(await ok(works))) throw new Error('/bin/true fails even under 64 MB');
  while (works - fails > 4 * KB) {
    const mid = Math.round((works + fails) / 2 / (4 * KB)) * 4 * KB;
    if (await ok(mid)) works = mid;
    else fails = mid;
  }
  return { works, fails };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const p90 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.9)]!;

/**
 * A container's cgroup life with podman's usual resources: create (mkdir and
 * limits), a process joins, and at the end either the process has exited
 * (a container's pid 1 took its namespace with it) and destroy only removes
 * the directories, or destroy finds it alive and kills it first.
 */
async function cgroupSetTimes(): Promise<Record<string, number[]>> {
  const resources: Resources = {
    devices: [{ allow: false, access: 'rwm' }],
    memory: { limit: 64 * 1024 * KB, swap: 128 * 1024 * KB },
    cpu: { quota: 50000, period: 100000, shares: 1024 },
    pids: { limit: 2048 },
  };
  const t: Record<string, number[]> = { create: [], 'add pid': [], 'destroy (exited)': [], total: [], 'destroy (alive: kill first)': [] };
  for (let i = 0; i < runs; i++) {
    const alive = i % 2 === 1;
    const child = spawn('sleep', ['60'], { stdio: 'ignore' });
    await once(child, 'spawn');
    const exited = once(child, 'exit');
    const cg = openCgroup({ path: `berth/bench-${process.pid}-${i}`, resources });
    const t0 = performance.now();
    await cg.create();
    const t1 = performance.now();
    await cg.addProcess(child.pid!);
    const t2 = performance.now();
    if (!alive) {
      child.kill('SIGKILL');
      await exited;
    }
    const t3 = performance.now();
    await cg.destroy();
    const t4 = performance.now();
    await exited;
    t.create!.push(t1 - t0);
    t['add pid']!.push(t2 - t1);
    if (alive) t['destroy (alive: kill first)']!.push(t4 - t3);
    else {
      t['destroy (exited)']!.push(t4 - t3);
      t.total!.push(t2 - t0 + (t4 - t3));
    }
  }
  return t;
}

const v = cgroupVersion();
process.stdout.write(`cgroup v${v}, ${runs} runs\n\n`);
const times = await cgroupSetTimes();
process.stdout.write('cgroup set per container        median ms  p90 ms\n');
for (const [k, xs] of Object.entries(times)) process.stdout.write(`${k.padEnd(30)} ${median(xs).toFixed(3).padStart(10)} ${p90(xs).toFixed(3).padStart(7)}\n`);
const m = await smallestLimit();
process.stdout.write(`\nsmallest memory limit for /bin/true: ${m.works / KB} KB works, ${m.fails / KB} KB fails\n`);
