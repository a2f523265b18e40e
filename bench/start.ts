// bench/start.ts: start-to-exit of a busybox /bin/true container (new pid,
// mount, uts, ipc and net namespaces, pivot_root, /proc and /dev mounted):
// berth's run() against `crun run`, `runc run` and bwrap started from Node
// with execa, interleaved round-robin in one process; then peak memory of
// berth's setup process against crun's. See bench/README.md.
//
//   npx tsc -p . && node dist/bench/start.js [--runs 50] [--warmup 5] [--mem-runs 10]
import { execa } from 'execa';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Container, run, type Stdio } from '../src/index.js';
import { HIDE_UNIFIED, ensureTools, hybridUnifiedHasControllers, log, makeBundle, median, procKb, quantile, table, timeRss, version } from './lib.js';

const { values: opt } = parseArgs({
  options: { runs: { type: 'string', default: '50' }, warmup: { type: 'string', default: '5' }, 'mem-runs': { type: 'string', default: '10' } },
});
const RUNS = Number(opt.runs), WARMUP = Number(opt.warmup), MEM_RUNS = Number(opt['mem-runs']);
const ROOTFS = join(fileURLToPath(import.meta.url), '..', '..', '..', 'test', '.rootfs', 'busybox');

if (process.getuid?.() !== 0) throw new Error('run as root');
await ensureTools({ runc: 'runc', crun: 'crun', bwrap: 'bubblewrap', unshare: 'util-linux', '/usr/bin/time': 'time' });
await execa('bash', [join(ROOTFS, '..', '..', 'make-rootfs.sh')], { stdio: 'inherit' });

const bundle = await makeBundle(ROOTFS, ['/bin/true']);
process.on('SIGINT', () => (bundle.cleanup(), process.exit(130)));
const hide = hybridUnifiedHasControllers(); // crun 1.8 cannot run here unless /sys/fs/cgroup/unified is hidden
const crunPrefix = hide ? HIDE_UNIFIED : [];

interface Runner {
  name: string;
  run(id: string): Promise<unknown>;
  /** Removes what a failed run left behind. */
  clean?(id: string): Promise<unknown>;
}
const ex = (argv: string[]) => execa(argv[0]!, argv.slice(1), { stdio: 'ignore' });
const oci = (name: string, argv: string[]): Runner => ({
  name,
  run: (id) => ex([...argv, 'run', '--bundle', bundle.dir, id]),
  clean: (id) => execa(argv[0]!, [...argv.slice(1), 'delete', '--force', id], { reject: false, stdio: 'ignore' }),
});
const berth = (stdio: Stdio): Runner => ({
  name: `berth run() stdio ${stdio}`,
  run: async () => {
    const r = await run({ spec: bundle.spec, bundle: bundle.dir, stdio });
    if (r.exitCode !== 0) throw new Error(`exit ${r.exitCode}`);
  },
});
const CRUN = hide ? 'crun run [in wrapper, raw]' : 'crun run';
const WRAP = 'wrapper alone (unshare+sh+umount, /bin/true)';
const runners: Runner[] = [
  berth('ignore'),
  berth('inherit'),
  oci(CRUN, [...crunPrefix, 'crun']),
  ...(hide ? [{ name: WRAP, run: () => ex([...HIDE_UNIFIED, '/bin/true']) }] : []),
  oci('runc run', ['runc']),
  { name: 'bwrap', run: () => ex(['bwrap', '--bind', bundle.rootfs, '/', '--proc', '/proc', '--dev', '/dev', '--unshare-all', '/bin/true']) },
  { name: 'execa /bin/true (spawn floor)', run: () => ex(['/bin/true']) },
];

// ------------------------------------------------------------ timing ----
const ms = new Map<string, number[]>(runners.map((r) => [r.name, []]));
const failed = new Map<string, number>();
log(`timing ${runners.length} commands: ${WARMUP} warm-up + ${RUNS} rounds, round-robin (start rotates each round)`);
for (let i = -WARMUP; i < RUNS; i++) {
  for (let k = 0; k < runners.length; k++) {
    const r = runners[(k + i + WARMUP) % runners.length]!;
    const id = `berth-bench-${process.pid}-${k}-${i + WARMUP}`;
    const t0 = performance.now();
    try {
      await r.run(id);
    } catch (e) {
      if (!failed.has(r.name)) log(`${r.name} failed: ${(e as Error).message.split('\n')[0]}`);
      failed.set(r.name, (failed.get(r.name) ?? 0) + 1);
      await r.clean?.(id).catch(() => {});
      continue;
    }
    if (i >= 0) ms.get(r.name)![i] = performance.now() - t0;
  }
}
// crun's own cost: per round, crun-in-wrapper minus wrapper alone (same round, so paired).
if (hide) {
  const c = ms.get(CRUN)!, w = ms.get(WRAP)!;
  ms.set('crun run [minus wrapper, paired]', c.flatMap((x, i) => (w[i] === undefined ? [] : [x - w[i]!])));
}

const stats = (xs: number[]) => {
  const s = xs.filter((x) => x !== undefined).sort((a, b) => a - b);
  return { n: s.length, med: quantile(s, 0.5), p10: quantile(s, 0.1), p90: quantile(s, 0.9) };
};
const crunNet = stats(ms.get(hide ? 'crun run [minus wrapper, paired]' : CRUN)!).med;
const crunRaw = stats(ms.get(CRUN)!).med;
const bwrapMed = stats(ms.get('bwrap')!).med;
const f1 = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : '-');
const f2 = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : '-');
const rows = [['runtime', 'n', 'median ms', 'p10 ms', 'p90 ms', '÷crun', hide ? '÷crun raw' : '', '÷bwrap', 'failed']];
for (const [name, xs] of ms) {
  const s = stats(xs);
  rows.push([name, String(s.n), f1(s.med), f1(s.p10), f1(s.p90), f2(s.med / crunNet), hide ? f2(s.med / crunRaw) : '', f2(s.med / bwrapMed), String(failed.get(name) ?? 0)]);
}

// ------------------------------------------------------------ memory ----
// berth: VmHWM of the setup process (the monitor, once it has forked) read
// while the container sleeps, and of the container process after create(),
// i.e. set up and waiting to exec. Others: GNU time %M (process + reaped children).
log(`peak memory: ${MEM_RUNS} runs each`);
const sleepSpec = structuredClone(bundle.spec);
sleepSpec.process!.args = ['sleep', '0.2'];
const mon: number[] = [], ctr: number[] = [];
for (let i = 0; i < MEM_RUNS; i++) {
  const c = await Container.create({ spec: sleepSpec, bundle: bundle.dir, stdio: 'ignore' });
  const setupPid = (c as unknown as { launch: { setupPid: number } }).launch.setupPid;
  ctr.push(procKb(c.pid, 'VmHWM'));
  await c.start();
  await sleep(100);
  mon.push(procKb(setupPid, 'VmHWM'));
  await c.wait();
  await c.delete();
}
const rss = async (argv: string[], prefix: string[] = []) => {
  const kb: number[] = [];
  for (let i = 0; i < MEM_RUNS; i++) kb.push(await timeRss(argv.map((a) => a.replace('{id}', `berth-bench-rss-${process.pid}-${i}`)), prefix));
  return median(kb);
};
const crunKb = await rss(['crun', 'run', '--bundle', bundle.dir, '{id}'], crunPrefix);
const runcKb = await rss(['runc', 'run', '--bundle', bundle.dir, '{id}']);
const bwrapKb = await rss(['bwrap', '--bind', bundle.rootfs, '/', '--proc', '/proc', '--dev', '/dev', '--unshare-all', '/bin/true']);
const mem = [['process', 'peak KB (median)', '÷crun']];
const memRow = (name: string, kb: number) => mem.push([name, String(Math.round(kb)), f2(kb / crunKb)]);
memRow('berth-setup monitor (VmHWM, during sleep 0.2)', median(mon));
memRow('berth-setup container child before exec (VmHWM)', median(ctr));
memRow('crun run (GNU time %M)', crunKb);
memRow('runc run (GNU time %M)', runcKb);
memRow('bwrap (GNU time %M)', bwrapKb);

bundle.cleanup();

// ------------------------------------------------------------ report ----
const uname = (await execa('uname', ['-r'])).stdout;
console.log(`# berth start-to-exit bench, ${new Date().toISOString()}, kernel ${uname}, ${(await import('node:os')).cpus().length} cpus, node ${process.version}`);
console.log(`# ${await version('crun')}; ${await version('runc')}; ${await version('bwrap')}`);
console.log(`# ${RUNS} rounds after ${WARMUP} warm-up; busybox /bin/true; defaultSpec() (pid, net, ipc, uts, mount ns; read-only root), cgroupsPath ${bundle.cgroupsPath}`);
if (hide) console.log('# crun runs inside unshare -m + sh + umount -l /sys/fs/cgroup/unified (hybrid host); "minus wrapper" subtracts the wrapper alone, timed in the same round');
console.log(`# ÷crun is against ${hide ? 'crun minus wrapper' : 'crun run'}; execa commands include Node's child_process spawn; berth is one library call\n`);
console.log(table(rows));
console.log('');
console.log(table(mem));
