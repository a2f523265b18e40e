// containerd 1.6 with berth as the runc binary of its runc shim
// (containerd-shim-runc-v2), driven by `ctr run --runc-binary`. containerd
// gets its own root, state and socket in a temp dir, no CRI plugin; the
// container runs on the busybox rootfs directory (`--rootfs`), so no image
// or registry is involved, and has no network namespace of its own.
import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { rootfs, testDir } from '../helpers.js';
import { ensureInstalled } from './install.js';

const bins = ['/usr/bin/containerd', '/usr/bin/ctr', '/usr/bin/containerd-shim-runc-v2'];
if (!ensureInstalled(bins, ['containerd'])) {
  t.test('containerd', { skip: 'containerd is not installed and apt-get could not install it' }, () => {});
  process.exit(0);
}

const berth = join(testDir, '..', 'bin', 'berth');
const ns = 'bthtest';
const dir = mkdtempSync('/tmp/bth-ctrd-');
const sock = join(dir, 'containerd.sock');
// The shim keeps its sockets and fifos under /run/containerd whatever the config says.
const hadRunDir = existsSync('/run/containerd');
writeFileSync(
  join(dir, 'config.toml'),
  `version = 2
root = "${dir}/root"
state = "${dir}/state"
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.internal.v1.opt", "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs", "io.containerd.tracing.processor.v1.otlp"]
[grpc]
  address = "${sock}"
[ttrpc]
  address = ""
[debug]
  address = ""
[metrics]
  address = ""
`,
);

const daemon = spawn('/usr/bin/containerd', ['--config', join(dir, 'config.toml')], { stdio: ['ignore', 'ignore', 'pipe'] });
let daemonLog = '';
daemon.stderr!.on('data', (d) => (daemonLog = (daemonLog + d).slice(-20_000)));
const exited = new Promise((r) => daemon.once('exit', r));

function ctr(args: string[], opts: { timeout?: number } = {}) {
  const r = spawnSync('/usr/bin/ctr', ['--address', sock, '--namespace', ns, ...args], { encoding: 'utf8', timeout: opts.timeout ?? 60_000 });
  return { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}
const runArgs = ['--runc-binary', berth, '--rootfs', rootfs];

t.before(async () => {
  for (const end = Date.now() + 20_000; Date.now() < end; await new Promise((r) => setTimeout(r, 50)))
    if (existsSync(sock) && ctr(['version']).code === 0) return;
  throw new Error(`containerd did not come up: ${daemonLog}`);
});

t.teardown(async () => {
  for (const id of ctr(['task', 'ls', '-q']).stdout.split('\n').filter(Boolean)) ctr(['task', 'delete', '-f', id]);
  for (const id of ctr(['container', 'ls', '-q']).stdout.split('\n').filter(Boolean)) ctr(['container', 'delete', id]);
  daemon.kill('SIGTERM');
  await exited;
  // What berth made for the shim (the state root, the namespace's cgroup parent) and the shim's run dir.
  for (const h of readdirSync('/sys/fs/cgroup'))
    try {
      rmdirSync(join('/sys/fs/cgroup', h, ns));
    } catch {
      // not made in this hierarchy
    }
  if (!hadRunDir) rmSync('/run/containerd', { recursive: true, force: true });
  else rmSync(`/run/containerd/runc/${ns}`, { recursive: true, force: true });
  rmSync(dir, { recursive: true, force: true });
});

t.test('ctr run --rm: output and exit code', async (t) => {
  const r = ctr(['run', '--rm', ...runArgs, 'c1', 'sh', '-c', 'echo hello; echo oops >&2; exit 3']);
  t.equal(r.code, 3, r.stderr);
  t.equal(r.stdout, 'hello\n');
  t.equal(r.stderr, 'oops\n');
  t.equal(ctr(['container', 'ls', '-q']).stdout, '', 'nothing left in containerd');
});

t.test('detached task: exec, pause/resume, ps, kill, delete', async (t) => {
  const loop = 'trap "exit 0" TERM; while :; do sleep 0.1; done';
  t.equal(ctr(['run', '-d', ...runArgs, 'c2', 'sh', '-c', loop]).code, 0);
  const task = () => ctr(['task', 'ls']).stdout.split('\n').find((l) => l.startsWith('c2 '))?.split(/\s+/);
  t.equal(task()?.[2], 'RUNNING');
  const e = ctr(['task', 'exec', '--exec-id', 'e1', 'c2', 'sh', '-c', 'tr "\\0" " " </proc/1/cmdline; exit 4']);
  t.equal(e.code, 4, e.stderr);
  t.equal(e.stdout, `sh -c ${loop} `, 'exec joins the container: its pid 1 is the init');
  t.equal(ctr(['task', 'pause', 'c2']).code, 0);
  t.equal(task()?.[2], 'PAUSED');
  t.equal(ctr(['task', 'resume', 'c2']).code, 0);
  t.equal(task()?.[2], 'RUNNING');
  const ps = ctr(['task', 'ps', 'c2']).stdout.trim().split('\n').slice(1);
  t.ok(ps.length >= 1 && ps.some((l) => l.split(/\s+/)[0] === task()?.[1]), 'ps lists the init');
  t.equal(ctr(['task', 'kill', '-s', 'SIGTERM', 'c2']).code, 0);
  let status: string | undefined;
  for (const end = Date.now() + 10_000; (status = task()?.[2]) !== 'STOPPED' && Date.now() < end; ) await new Promise((r) => setTimeout(r, 50));
  t.equal(status, 'STOPPED', 'the trap ran and the task stopped');
  t.equal(ctr(['task', 'delete', 'c2']).code, 0);
  t.equal(ctr(['container', 'delete', 'c2']).code, 0);
});

t.test('a missing command fails create with the runtime\'s error', async (t) => {
  const r = ctr(['run', '--rm', ...runArgs, 'c3', '/nonexistent']);
  t.not(r.code, 0);
  t.match(r.stderr, /OCI runtime create failed: .*no such file or directory.*executable file not found/);
  t.equal(ctr(['container', 'ls', '-q']).stdout, '', 'ctr removed the container');
  t.same(readdirSync(`/run/containerd/runc/${ns}`), [], 'berth left no state behind');
});

t.test('ctr run -t: a terminal through the shim\'s console socket', async (t) => {
  // ctr wants a terminal of its own: script(1) gives it one.
  const cmd = `/usr/bin/ctr --address ${sock} --namespace ${ns} run --rm -t --runc-binary ${berth} --rootfs ${rootfs} c4 sh -c 'tty; sleep 0.3; exit 5'`;
  const r = spawnSync('script', ['-qec', cmd, '/dev/null'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
  t.equal(r.status, 5, r.stderr);
  t.match(r.stdout, /\/dev\/pts\/0/);
});
