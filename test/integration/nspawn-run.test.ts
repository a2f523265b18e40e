// `berth run` for people (the nspawn-like face), black-box through bin/berth:
// a directory or an imported image, nspawn's flags, the terminal, exit codes
// and signals, and the container registered by name while it runs.
import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { rootfs } from '../helpers.js';
import { berthCli, bin } from '../cli.js';

const root = mkdtempSync('/tmp/bth-root-');
const work = mkdtempSync('/tmp/bth-nsp-');
const data = join(work, 'data');
const env = { ...process.env, BERTH_DATA_DIR: data };
const berth = berthCli(root, work);
const run = (args: string[]) => berth(['run', ...args], { env });
t.teardown(() => {
  for (const id of berth(['list', '-q']).stdout.split('\n').filter(Boolean)) berth(['delete', '--force', id]);
  rmSync(root, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
});

const until = async (what: () => boolean, ms = 10_000) => {
  for (const end = Date.now() + ms; !what() && Date.now() < end; ) await new Promise((r) => setTimeout(r, 30));
  return what();
};

t.test('a directory: the command, its exit code, the machine name; nothing registered after', async (t) => {
  const r = run(['-D', rootfs, '-M', 'n1', 'sh', '-c', 'echo "$(hostname) $container $container_name"; exit 3']);
  t.equal(r.code, 3);
  t.equal(r.stdout, 'n1 berth n1\n');
  t.match(r.stderr, /^Spawning container n1 on .*busybox\.\n/);
  t.match(r.stderr, /Container n1 failed with error code 3\.\n$/);
  t.equal(berth(['list', '-q']).stdout, '', 'unregistered once it is over');
  const q = run(['-q', '-D', rootfs, 'true']);
  t.equal(q.code, 0);
  t.equal(q.stderr, '', '-q: no messages');
});

t.test('nspawn\'s flags reach the container', async (t) => {
  const host = readdirSync('/sys/class/net').sort().join(' ');
  t.equal(run(['-q', '-D', rootfs, 'sh', '-c', 'ls /sys/class/net | sort | tr "\\n" " "']).stdout.trim(), host, 'the host\'s network by default');
  t.equal(run(['-q', '-D', rootfs, '--private-network', 'ls', '/sys/class/net']).stdout, 'lo\n', '--private-network: loopback only');
  t.equal(run(['-q', '-D', rootfs, '-u', 'daemon', '-E', 'A=1', '--setenv=B=two', '--chdir', '/tmp', 'sh', '-c', 'echo $(id -u):$(id -g) $A $B $(pwd)']).stdout, '1:1 1 two /tmp\n');
  const caps = run(['-q', '-D', rootfs, '--drop-capability', 'CAP_CHOWN', '--capability', 'CAP_SYS_TIME', 'grep', 'CapBnd', '/proc/self/status']).stdout;
  const bnd = BigInt(`0x${caps.split(/\s+/)[1]}`);
  t.equal(bnd & 1n, 0n, 'CAP_CHOWN dropped');
  t.equal((bnd >> 25n) & 1n, 1n, 'CAP_SYS_TIME added');
  t.equal(run(['-q', '-D', rootfs, '--rlimit', 'NOFILE=99:100', 'sh', '-c', 'ulimit -n']).stdout, '99\n');
});

t.test('--as-pid2: the command is pid 2 under a stub init, and its exit code is the run\'s', async (t) => {
  const r = run(['-q', '-D', rootfs, '--as-pid2', 'sh', '-c', 'echo $$ $(cat /proc/1/comm); exit 7']);
  t.same([r.code, r.stdout], [7, '2 berth-init\n']);
  t.equal(run(['-q', '-D', rootfs, '-a', 'sh', '-c', 'echo $$']).stdout, '2\n', '-a');
  t.equal(run(['-q', '-D', rootfs, 'sh', '-c', 'echo $$']).stdout, '1\n', 'without it, pid 1');
});

t.test('root and mounts: --read-only, -x, --bind, --bind-ro, --tmpfs', async (t) => {
  t.match(run(['-q', '-D', rootfs, '--read-only', 'touch', '/x']).stderr, /Read-only file system/);
  t.equal(run(['-q', '-D', rootfs, '-x', 'sh', '-c', 'echo hi > /ephemeral; cat /ephemeral']).stdout, 'hi\n', '-x: writable');
  t.notOk(existsSync(join(rootfs, 'ephemeral')), '-x: the directory is untouched');
  const shared = join(work, 'shared');
  spawnSync('mkdir', ['-p', shared]);
  writeFileSync(join(shared, 'in'), 'from host\n');
  t.equal(run(['-q', '-D', rootfs, '--bind', `${shared}:/mnt`, 'sh', '-c', 'cat /mnt/in; echo back > /mnt/out']).code, 0);
  t.equal(readFileSync(join(shared, 'out'), 'utf8'), 'back\n', '--bind: writes reach the host');
  t.match(run(['-q', '-D', rootfs, '--bind-ro', `${shared}:/mnt`, 'touch', '/mnt/no']).stderr, /Read-only file system/);
  t.match(run(['-q', '-D', rootfs, '--tmpfs', '/mnt:size=1m,mode=700', 'sh', '-c', 'stat -c %a /mnt; grep " /mnt " /proc/mounts']).stdout, /^700\ntmpfs \/mnt tmpfs rw,nosuid,nodev,.*size=1024k/);
});

t.test('registered by name while it runs: list, state, exec; SIGTERM sends --kill-signal', async (t) => {
  const out = openSync(join(work, 'live.out'), 'w');
  const p = spawn(bin, ['--root', root, 'run', '-q', '-D', rootfs, '-M', 'live', '--kill-signal', 'SIGUSR1', '--property', 'TasksMax=7', '--property', 'MemoryMax=48M', 'sh', '-c', 'trap "exit 42" USR1; while :; do sleep 0.1; done'], { env, stdio: ['ignore', out, out] });
  closeSync(out);
  const exited = new Promise<number | null>((r) => p.once('exit', (code) => r(code)));
  t.ok(await until(() => berth(['list', '-q']).stdout === 'live\n'), 'berth list shows it');
  t.equal(JSON.parse(berth(['state', 'live']).stdout).status, 'running');
  t.equal(readFileSync('/sys/fs/cgroup/pids/berth/live/pids.max', 'utf8'), '7\n', '--property TasksMax');
  t.equal(readFileSync('/sys/fs/cgroup/memory/berth/live/memory.limit_in_bytes', 'utf8'), `${48 * 2 ** 20}\n`, '--property MemoryMax');
  const e = berth(['exec', 'live', 'sh', '-c', 'hostname; tr "\\0" " " </proc/1/cmdline']);
  t.equal(e.code, 0, e.stderr);
  t.match(e.stdout, /^live\nsh -c trap/, 'exec joins it');
  t.equal(run(['-q', '-D', rootfs, '-M', 'live', 'true']).stderr, 'container with id live already exists\n', 'one name, one container');
  p.kill('SIGTERM');
  t.equal(await exited, 42, 'the container got SIGUSR1 and its exit code is ours');
  t.equal(berth(['list', '-q']).stdout, '');
});

t.test('a terminal when on one (through script(1))', async (t) => {
  const cmd = `${bin} --root ${root} run -q -D ${rootfs} sh -c 'tty; sleep 0.3; exit 4'`;
  const r = spawnSync('script', ['-qec', cmd, '/dev/null'], { encoding: 'utf8', env: { ...env, COLUMNS: '90', LINES: '20' }, stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000 });
  t.equal(r.status, 4, r.stderr);
  t.match(r.stdout, /\/dev\/pts\/0\r/, 'the container\'s own pty');
  t.equal(run(['-q', '-D', rootfs, '--console', 'pipe', 'sh', '-c', 'tty']).stdout, 'not a tty\n', '--console pipe: our stdio');
});

t.test('images: import with a progress bar, images, run by -M, rmi', async (t) => {
  const tar = join(work, 'busybox.tar');
  spawnSync('tar', ['-C', rootfs, '-cf', tar, '.']);
  const cmd = `${bin} --root ${root} import ${tar} bb`;
  const imp = spawnSync('script', ['-qec', cmd, '/dev/null'], { encoding: 'utf8', env, stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000 });
  t.equal(imp.status, 0, imp.stdout);
  t.match(imp.stdout, /\r\[=+\] 100% [\d.]+\/[\d.]+ MB layer 1\/1/, 'a progress bar on the terminal');
  t.match(berth(['images'], { env }).stdout, /^NAME +FORMAT +LAYERS +SIZE +CREATED\nbb +rootfs +1 /);
  const r = run(['-q', '-M', 'bb', 'sh', '-c', 'echo $(hostname) > /written; cat /written; ls /bin/busybox']);
  t.equal(r.stdout, 'bb\n/bin/busybox\n', '-M NAME: the image of that name; its changes are the container\'s');
  t.equal(run(['-q', '--image', 'bb', 'cat', '/written']).code, 1, 'and go with it');
  t.match(run(['-q', '--image', 'nope', 'true']).stderr, /no image named "nope"/);
  t.match(berth(['rmi', 'bb'], { env }).stdout, /^bb: 1 layer\(s\) removed\n$/);
  t.equal(berth(['images', '-q'], { env }).stdout, '');
});

t.test('--restart, liveness checks, timestamped logs', async (t) => {
  const dir = join(work, 'sup');
  spawnSync('mkdir', ['-p', join(dir, 'www')]);
  writeFileSync(join(dir, 'count'), '');
  writeFileSync(join(dir, 'www', 'index.html'), 'ok\n');
  const r = run(['-D', rootfs, '--bind', `${dir}:/mnt`, '--restart', 'on-failure:2', 'sh', '-c', 'echo x >> /mnt/count; exit 3']);
  t.equal(r.code, 3, 'the last run\'s exit code');
  t.equal(readFileSync(join(dir, 'count'), 'utf8'), 'x\nx\nx\n', 'on-failure:2: the first run and two restarts');
  t.match(r.stderr, /restarting in 100 ms \(restart 1 of 2\)[^]*restarting in 200 ms \(restart 2 of 2\)/);
  t.equal(run(['-q', '-D', rootfs, '--restart', 'on-failure', 'true']).code, 0, 'a success is not restarted');

  const fast = ['--health-interval', '200ms', '--health-retries', '2'];
  t.equal(run(['-q', '-D', rootfs, '--health-cmd', 'true', ...fast, 'sleep', '1.5']).code, 0, 'a healthy container runs to its end');
  const sick = run(['-D', rootfs, '--health-cmd', 'test -e /tmp/up', ...fast, 'sh', '-c', 'touch /tmp/up; sleep 1; rm /tmp/up; sleep 30']);
  t.equal(sick.code, 137, 'a failing check kills it');
  t.match(sick.stderr, /Container \S+ is unhealthy: "test -e \/tmp\/up" exited 1\./);
  const port = 20000 + Math.floor(Math.random() * 20000);
  const httpd = `httpd -f -p 127.0.0.1:${port} -h /www & sleep 1.5`;
  t.equal(run(['-q', '-D', rootfs, '--bind-ro', `${dir}/www:/www`, '--health-http', `${port}/index.html`, ...fast, 'sh', '-c', httpd]).code, 0, 'http: 200 is healthy');
  const notFound = run(['-D', rootfs, '--bind-ro', `${dir}/www:/www`, '--health-http', `${port}/missing`, ...fast, 'sh', '-c', `${httpd}; sleep 30`]);
  t.equal(notFound.code, 137);
  t.match(notFound.stderr, new RegExp(`unhealthy: http://127\\.0\\.0\\.1:${port}/missing: 404`));
  t.equal(run(['-q', '-D', rootfs, '--health-tcp', String(port), ...fast, 'sh', '-c', `nc -ll -p ${port} -e true & sleep 1.5`]).code, 0, 'tcp: a listening port is healthy');

  const log = join(dir, 'log');
  const ts = run(['-q', '-D', rootfs, '--timestamps', '--log-file', log, 'sh', '-c', 'echo a; echo b >&2']);
  t.match(ts.stdout, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z a\n$/);
  t.match(ts.stderr, /^\d{4}-\d\d-\d\dT[\d:.]+Z b\n$/);
  t.match(readFileSync(log, 'utf8'), /^\S+Z stdout a\n\S+Z stderr b\n$|^\S+Z stderr b\n\S+Z stdout a\n$/, 'the log file names the stream');
  t.equal(berth(['list', '-q']).stdout, '');
});

t.test('-d: in the background under its berth run; logs, exec, stop', async (t) => {
  const d = run(['-D', rootfs, '-M', 'bg', '-d', '--restart', 'always', '--property', 'MemoryMax=64M', '--property', 'TasksMax=20', 'sh', '-c', 'echo hello; echo oops >&2; sleep 30']);
  t.equal(d.code, 0, d.stderr);
  t.equal(d.stdout, 'bg\n', 'prints the name and returns');
  t.equal(berth(['list', '-q']).stdout, 'bg\n');
  t.ok(await until(() => /stderr oops/.test(berth(['logs', 'bg']).stdout)), 'berth logs has its output');
  t.match(berth(['logs', 'bg']).stdout, /^Spawning container bg on .*\n\S+Z stdout hello\n/m);
  t.equal(berth(['exec', 'bg', 'echo', 'inside']).stdout, 'inside\n');
  const st = berth(['stats', '--interval', '200ms', 'bg']);
  t.match(st.stdout, /^NAME +CPU % +MEM USAGE \/ LIMIT +PIDS +BLOCK I\/O\nbg +\d+\.\d% +[\d.]+MiB \/ 64\.0MiB +\d+ \/ 20 +/, 'berth stats: its limits');
  const js = JSON.parse(berth(['stats', '--interval', '100ms', '--format', 'json']).stdout);
  t.match(js, [{ name: 'bg', memoryLimit: 64 * 2 ** 20, pidsLimit: 20 }], 'every running container, as JSON');
  t.equal(berth(['stop', 'bg']).code, 0);
  t.equal(berth(['list', '-q']).stdout, '', 'stop ends it, --restart always notwithstanding');
  t.match(berth(['logs', 'bg']).stdout, /Container bg failed with error code 137\.\n$/, 'the log outlives it');
  t.equal(berth(['logs', '--rm', 'bg']).code, 0);
  t.equal(berth(['logs', 'bg']).stderr, `no log for bg (berth run -d writes one)\n`);

  t.equal(run(['-q', '-D', rootfs, '-M', 'fl', '-d', 'sh', '-c', 'echo a; sleep 0.5; echo b']).code, 0);
  t.match(berth(['logs', '-f', 'fl']).stdout, /stdout a\n\S+ stdout b\n$/, 'logs -f follows it to its end');
  t.equal(berth(['logs', '--rm', 'fl']).code, 0);
  t.match(run(['-D', '/nonexistent', '-d', 'true']).stderr, /--directory: \/nonexistent is not a directory/, 'bad flags fail before it detaches');
  t.same(readdirSync(root), [], 'no state and no log left');
});

t.test('bad input names the flag and leaves nothing', async (t) => {
  const r = run(['-D', '/nonexistent', 'true']);
  t.equal(r.code, 1);
  t.equal(r.stderr, '--directory: /nonexistent is not a directory\n');
  t.equal(run(['-D', rootfs, '-p', '80', 'true']).stderr, '--port: needs a veth: add --network-veth or --network-bridge NAME\n');
  t.equal(run(['-D', rootfs, '--property', 'MemoryMax=lots', 'true']).stderr, '--property: MemoryMax=lots: want a size like 512K, 64M, 2G or infinity\n');
  t.equal(run(['-D', rootfs, '--health-tcp', '80', '--private-network', 'true']).stderr, '--health-tcp: with --private-network the host cannot reach the container; use --health-cmd\n');
  t.same(readdirSync(root), [], 'no state left');
});
