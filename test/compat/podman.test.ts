// podman with berth as its OCI runtime (through conmon), on an image made
// here with `podman import` of the busybox rootfs. podman gets its own
// storage, run root and containers.conf in a temp dir; networking is off
// (--network none), so nothing of the host's network is touched.
import t from 'tap';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { rootfs, testDir } from '../helpers.js';
import { ensureInstalled } from './install.js';

const podmanBin = ensureInstalled(['/usr/bin/podman'], ['podman']) ? '/usr/bin/podman' : undefined;
if (!podmanBin) {
  t.test('podman', { skip: 'podman is not installed and apt-get could not install it' }, () => {});
  process.exit(0);
}

const berth = join(testDir, '..', 'bin', 'berth');
const dir = mkdtempSync('/tmp/bth-podman-');
const conf = join(dir, 'containers.conf');
// Named berth, and listed as speaking --log-format json, as podman wants to
// be told; rlimits podman's defaults would ask beyond this sandbox's hard limit.
writeFileSync(
  conf,
  `[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
netns = "none"
[engine]
runtime = "berth"
runtime_supports_json = ["crun", "runc", "berth"]
cgroup_manager = "cgroupfs"
events_logger = "none"
[engine.runtimes]
berth = ["${berth}"]
`,
);
const env = { ...process.env, CONTAINERS_CONF: conf };
const base = ['--root', join(dir, 'root'), '--runroot', join(dir, 'runroot'), '--storage-driver', 'vfs', '--cgroup-manager', 'cgroupfs'];

function podman(args: string[], opts: { input?: string; timeout?: number } = {}) {
  const r = spawnSync(podmanBin!, [...base, ...args], { env, encoding: 'utf8', timeout: opts.timeout ?? 60_000, input: opts.input });
  return { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

t.teardown(() => {
  podman(['rm', '-a', '-f', '-t', '0']);
  spawnSync(podmanBin!, [...base, 'system', 'reset', '-f'], { env, stdio: 'ignore', timeout: 60_000 });
  // podman leaves its cgroupfs parent behind (it made it, through berth or itself).
  for (const h of readdirSync('/sys/fs/cgroup')) {
    const p = join('/sys/fs/cgroup', h, 'libpod_parent');
    for (const sub of existsSync(p) ? ['conmon', ''] : []) {
      try {
        rmdirSync(join(p, sub));
      } catch {
        // in use by someone else's podman, or gone
      }
    }
  }
  rmSync(dir, { recursive: true, force: true });
});

t.before(() => {
  execFileSync('tar', ['-C', rootfs, '-cf', join(dir, 'busybox.tar'), '.']);
  const r = podman(['import', join(dir, 'busybox.tar'), 'localhost/busybox:test']);
  if (r.code !== 0) throw new Error(`podman import failed: ${r.stderr}`);
});

t.test('run --rm: output and exit code', async (t) => {
  const r = podman(['run', '--rm', 'localhost/busybox:test', 'sh', '-c', 'echo hello; exit 3']);
  t.equal(r.code, 3, r.stderr);
  t.equal(r.stdout, 'hello\n');
});

t.test('run -d, exec, pause/unpause, kill, stop, rm', async (t) => {
  const id = podman(['run', '-d', '--name', 'bth1', 'localhost/busybox:test', 'sh', '-c', 'trap "exit 0" TERM; while :; do sleep 0.1; done']).stdout.trim();
  t.ok(id, 'started');
  const e = podman(['exec', 'bth1', 'sh', '-c', 'echo in $(hostname); exit 4']);
  t.equal(e.code, 4, e.stderr);
  t.match(e.stdout, /^in /);
  t.equal(podman(['inspect', '-f', '{{.State.Status}}', 'bth1']).stdout.trim(), 'running');
  const p = podman(['pause', 'bth1']);
  t.equal(p.code, 0, p.stderr);
  t.equal(podman(['inspect', '-f', '{{.State.Status}}', 'bth1']).stdout.trim(), 'paused');
  t.equal(podman(['unpause', 'bth1']).code, 0);
  const s = podman(['stop', '-t', '5', 'bth1']);
  t.equal(s.code, 0, s.stderr);
  t.equal(podman(['inspect', '-f', '{{.State.ExitCode}}', 'bth1']).stdout.trim(), '0', 'the TERM trap ran');
  t.equal(podman(['rm', 'bth1']).code, 0);
  const k = podman(['run', '-d', '--name', 'bth2', 'localhost/busybox:test', 'sleep', '60']);
  t.equal(k.code, 0, k.stderr);
  t.equal(podman(['kill', 'bth2']).code, 0);
  t.equal(podman(['wait', 'bth2']).stdout.trim(), '137');
  t.equal(podman(['rm', '-f', 'bth2']).code, 0);
});

t.test('errors map to podman exit codes: 127 for a missing command', async (t) => {
  const r = podman(['run', '--rm', 'localhost/busybox:test', '/nonexistent']);
  t.equal(r.code, 127, r.stderr);
  t.match(r.stderr, /no such file or directory|not found/);
});

t.test('run -it: a terminal through the console socket', async (t) => {
  // script(1) gives podman a terminal of its own. The short sleep: podman
  // (through conmon) may lose a pty's last output when the process exits at once.
  const r = spawnSync('script', ['-qec', `${podmanBin} ${base.join(' ')} run --rm -it localhost/busybox:test sh -c 'tty; sleep 0.3; exit 5'`, '/dev/null'], {
    env,
    encoding: 'utf8',
    timeout: 60_000,
  });
  t.equal(r.status, 5, r.stderr);
  t.match(r.stdout, /\/dev\/pts\/0/);
});
