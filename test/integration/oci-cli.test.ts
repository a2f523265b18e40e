// The OCI command line, black-box through bin/berth, in the style of runc's
// integration tests.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultSpec, type Spec } from '../../src/index.js';
import { rootfs } from '../helpers.js';
import { berthCli } from '../cli.js';

const root = mkdtempSync('/tmp/bth-root-');
const work = mkdtempSync('/tmp/bth-cli-');
t.teardown(() => {
  for (const id of berth(['list', '-q']).stdout.split('\n').filter(Boolean)) berth(['delete', '--force', id]);
  rmSync(root, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
});

const berth = berthCli(root, work);

let n = 0;
/** A bundle dir with a config.json for the busybox rootfs. */
function bundle(args: string[], edit?: (s: Spec) => void): string {
  const dir = join(work, `b${n++}`);
  spawnSync('mkdir', ['-p', dir]);
  const s = defaultSpec();
  s.process!.terminal = false;
  s.process!.args = args;
  s.root = { path: rootfs, readonly: true };
  edit?.(s);
  writeFileSync(join(dir, 'config.json'), JSON.stringify(s));
  return dir;
}

const state = (id: string) => JSON.parse(berth(['state', id]).stdout);

t.test('spec writes runc\'s default config.json, and refuses to overwrite it', async (t) => {
  const dir = join(work, 'spec');
  spawnSync('mkdir', ['-p', dir]);
  t.equal(berth(['spec', '--bundle', dir]).code, 0);
  t.same(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')), defaultSpec());
  const again = berth(['spec', '--bundle', dir]);
  t.equal(again.code, 1);
  t.match(again.stderr, /exists/);
});

t.test('create, state, start, kill, delete', async (t) => {
  const b = bundle(['sh', '-c', 'trap "exit 42" TERM; while :; do sleep 0.05; done']);
  const pidFile = join(work, 'c1.pid');
  const c = berth(['create', '--bundle', b, '--pid-file', pidFile, 'c1']);
  t.equal(c.code, 0, c.stderr);
  let s = state('c1');
  t.equal(s.status, 'created');
  t.equal(s.id, 'c1');
  t.equal(s.bundle, b);
  t.ok(s.pid > 0, 'pid');
  t.equal(readFileSync(pidFile, 'utf8'), String(s.pid), 'the pid file is written before create exits');
  t.match(readFileSync(`/proc/${s.pid}/cmdline`, 'utf8'), /berth-setup/, 'not yet exec\'d');
  t.match(berth(['list']).stdout, /c1\s+\d+\s+created/);
  t.equal(berth(['start', 'c1']).code, 0);
  s = state('c1');
  t.equal(s.status, 'running');
  t.same(JSON.parse(berth(['ps', '--format', 'json', 'c1']).stdout).includes(s.pid), true, 'ps lists the init');
  t.equal(berth(['start', 'c1']).code, 1, 'a second start fails');
  const del = berth(['delete', 'c1']);
  t.equal(del.code, 1, 'delete of a running container needs --force');
  t.match(del.stderr, /not stopped/);
  t.equal(berth(['kill', 'c1', 'TERM']).code, 0);
  for (let i = 0; i < 100 && state('c1').status !== 'stopped'; i++) await new Promise((r) => setTimeout(r, 20));
  s = state('c1');
  t.equal(s.status, 'stopped');
  t.equal(s.pid, 0, 'pid 0 once stopped');
  t.equal(berth(['kill', 'c1', 'KILL']).code, 1, 'kill of a stopped container fails');
  t.equal(berth(['delete', 'c1']).code, 0);
  t.equal(berth(['state', 'c1']).code, 1);
  t.notOk(existsSync(join(root, 'c1')), 'state dir removed');
});

t.test('run: output and exit code pass through; -d detaches', async (t) => {
  const r = berth(['run', '--bundle', bundle(['sh', '-c', 'echo out; echo err >&2; exit 7']), 'r1']);
  t.equal(r.code, 7);
  t.equal(r.stdout, 'out\n');
  t.equal(r.stderr, 'err\n');
  t.equal(berth(['state', 'r1']).code, 1, 'run deletes the container');
  const k = berth(['run', '--bundle', bundle(['sh', '-c', 'kill -9 $$; sleep 1']), 'r2']);
  t.equal(k.code, 0, 'pid 1 is immune to its own SIGKILL');
  const d = berth(['run', '-d', '--bundle', bundle(['sleep', '30']), 'r3']);
  t.equal(d.code, 0, d.stderr);
  t.equal(state('r3').status, 'running');
  t.equal(berth(['delete', '--force', 'r3']).code, 0);
  t.equal(berth(['delete', '--force', 'r3']).code, 0, 'delete --force of a missing container succeeds');
  const missing = berth(['delete', 'r3']);
  t.equal(missing.code, 1);
  t.match(missing.stderr, /does not exist/);
});

t.test('exec: args, --env, --cwd, --user, --process, exit code', async (t) => {
  t.equal(berth(['run', '-d', '--bundle', bundle(['sleep', '30']), 'e1']).code, 0);
  t.teardown(() => berth(['delete', '--force', 'e1']));
  const e = berth(['exec', '--env', 'X=1', '--cwd', '/tmp', '--user', '1:1', 'e1', 'sh', '-c', 'echo $X $(pwd) $(id -u):$(id -g); exit 3']);
  t.equal(e.code, 3);
  t.equal(e.stdout, '1 /tmp 1:1\n');
  const pids = JSON.parse(berth(['ps', '--format', 'json', 'e1']).stdout);
  t.equal(pids.length, 1, 'the exec process is gone');
  const proc = join(work, 'process.json');
  writeFileSync(proc, JSON.stringify({ ...defaultSpec().process, terminal: false, args: ['sh', '-c', 'cat /proc/1/cmdline | tr "\\0" " "'] }));
  const p = berth(['exec', '--process', proc, 'e1']);
  t.equal(p.code, 0, p.stderr);
  t.equal(p.stdout, 'sleep 30 ', 'the process runs in the container\'s pid namespace');
  const nf = berth(['exec', 'e1', '/nope']);
  t.equal(nf.code, 1);
  t.match(nf.stderr, /no such file or directory/);
  const pidFile = join(work, 'exec.pid');
  t.equal(berth(['exec', '--detach', '--pid-file', pidFile, 'e1', 'sleep', '5']).code, 0);
  t.ok(Number(readFileSync(pidFile, 'utf8')) > 0, '--detach writes the pid file');
});

t.test('errors: one JSON line in --log, the same text on stderr, nothing left', async (t) => {
  const log = join(work, 'log.json');
  const r = berth(['--log', log, '--log-format', 'json', 'create', '--bundle', bundle(['/nope']), 'x1']);
  t.equal(r.code, 1);
  const lines = readFileSync(log, 'utf8').trim().split('\n');
  t.equal(lines.length, 1, 'exactly one line');
  const entry = JSON.parse(lines[0]!);
  t.equal(entry.level, 'error');
  t.match(entry.msg, /no such file or directory.*executable file not found/);
  t.ok(Date.parse(entry.time), 'time');
  t.equal(r.stderr.trim(), entry.msg, 'stderr has the same text');
  t.notOk(existsSync(join(root, 'x1')), 'no state left');
  const bad = join(work, 'bad');
  spawnSync('mkdir', ['-p', bad]);
  writeFileSync(join(bad, 'config.json'), JSON.stringify({ ...defaultSpec(), process: { ...defaultSpec().process, args: [''] } }));
  const m = berth(['create', '--bundle', bad, 'x2']);
  t.equal(m.code, 1);
  t.match(m.stderr, /^process\.args\[0\]: must be a non-empty string/);
  t.notOk(existsSync(join(root, 'x2')));
  t.equal(berth(['create', '--bundle', bundle(['true']), 'x3']).code, 0);
  const dup = berth(['create', '--bundle', bundle(['true']), 'x3']);
  t.equal(dup.code, 1);
  t.match(dup.stderr, /already exists/);
  t.equal(berth(['delete', '--force', 'x3']).code, 0);
});

t.test('works with no PATH in the environment (conmon, podman)', async (t) => {
  t.equal(berth(['run', '-d', '--bundle', bundle(['sleep', '30']), 'p1']).code, 0);
  const s = berth(['state', 'p1'], { env: {} });
  t.equal(s.code, 0, s.stderr);
  t.equal(JSON.parse(s.stdout).status, 'running');
  t.equal(berth(['kill', 'p1', '9'], { env: {} }).code, 0);
  t.equal(berth(['delete', '--force', 'p1'], { env: {} }).code, 0);
});

t.test('--preserve-fds: stdio and the preserved fds reach the container, nothing else', async (t) => {
  const file = join(work, 'fd3.txt');
  writeFileSync(file, 'through fd 3\n');
  const fd = openSync(file, 'r');
  const extra = openSync(file, 'r'); // open in the caller, not passed on
  t.teardown(() => {
    closeSync(fd);
    closeSync(extra);
  });
  const r = berth(['run', '--preserve-fds', '1', '--bundle', bundle(['sh', '-c', 'cat <&3; ls /proc/1/fd; true']), 'f1'], {
    fds: [fd, extra],
  });
  t.equal(r.code, 0, r.stderr);
  const [text, ...fds] = r.stdout.trim().split('\n');
  t.equal(text, 'through fd 3');
  t.equal(fds.join(' '), '0 1 2 3', 'the container init has only stdio and fd 3');
});

t.test('--console-socket: the pty master arrives over SCM_RIGHTS, the process has a terminal', async (t) => {
  const sock = join(work, 'console.sock');
  // A tiny receiver, like runc's recvtty: takes the master and copies what it reads.
  const py = `
import socket, os, sys
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(1)
print("listening", flush=True)
c, _ = s.accept()
msg, fds, flags, addr = socket.recv_fds(c, 16, 1)
out = b""
while True:
    try:
        b = os.read(fds[0], 4096)
    except OSError:
        break
    if not b: break
    out += b
sys.stdout.write(out.decode())
`;
  const { spawn } = await import('node:child_process');
  const rx = spawn('python3', ['-c', py, sock], { stdio: ['ignore', 'pipe', 'inherit'] });
  let got = '';
  rx.stdout.on('data', (d) => (got += d));
  while (!got.includes('listening')) await new Promise((r) => setTimeout(r, 10));
  const b = bundle(['sh', '-c', 'tty; stty size'], (s) => {
    s.process!.terminal = true;
    s.process!.consoleSize = { height: 30, width: 100 };
  });
  const r = berth(['run', '--console-socket', sock, '--bundle', b, 't1']);
  t.equal(r.code, 0, r.stderr);
  await new Promise((r) => rx.on('close', r));
  t.match(got, /\/dev\/pts\/0/, 'the process runs on the container\'s pty');
  t.match(got, /30 100/, 'consoleSize applied');
});

t.test('features and global flags', async (t) => {
  const f = JSON.parse(berth(['features']).stdout);
  t.ok(f.linux.namespaces.includes('user'));
  t.ok(f.mountOptions.includes('rbind'));
  t.ok(f.linux.capabilities.includes('CAP_SYS_ADMIN'));
  const sd = berth(['--systemd-cgroup', 'list']);
  t.equal(sd.code, 1);
  t.match(sd.stderr, /systemd/);
  t.equal(berth(['frobnicate']).code, 1);
});

t.test('hooks: each kind runs at its time with the state on stdin; a failing one fails create', async (t) => {
  const out = mkdtempSync('/tmp/bth-hooks-');
  t.teardown(() => rmSync(out, { recursive: true, force: true }));
  const record = (name: string, dir = out) => ({ path: '/bin/sh', args: ['sh', '-c', `cat > ${dir}/${name}.json`] });
  const b = bundle(['sh', '-c', 'echo ran > /hooks/process; sleep 0.2'], (s) => {
    s.mounts!.push({ destination: '/hooks', type: 'bind', source: out, options: ['rbind', 'rw'] });
    s.hooks = {
      prestart: [record('prestart')],
      createRuntime: [record('createRuntime')],
      createContainer: [record('createContainer')],
      startContainer: [record('startContainer', '/hooks')], // resolved in the container
      poststart: [record('poststart')],
      poststop: [record('poststop')],
    };
  });
  t.equal(berth(['create', '--bundle', b, 'h1']).code, 0);
  const pid = state('h1').pid;
  for (const h of ['prestart', 'createRuntime', 'createContainer']) {
    const s = JSON.parse(readFileSync(join(out, `${h}.json`), 'utf8'));
    t.equal(s.id, 'h1', `${h}: state id`);
    t.equal(s.pid, pid, `${h}: the container's host pid`);
    t.equal(s.bundle, b);
  }
  t.notOk(existsSync(join(out, 'startContainer.json')), 'startContainer waits for start');
  t.equal(berth(['start', 'h1']).code, 0);
  t.ok(existsSync(join(out, 'poststart.json')), 'poststart ran before start returned');
  for (let i = 0; i < 100 && state('h1').status !== 'stopped'; i++) await new Promise((r) => setTimeout(r, 20));
  t.equal(JSON.parse(readFileSync(join(out, 'startContainer.json'), 'utf8')).pid, pid);
  t.equal(readFileSync(join(out, 'process'), 'utf8'), 'ran\n');
  t.equal(berth(['delete', 'h1']).code, 0);
  t.equal(JSON.parse(readFileSync(join(out, 'poststop.json'), 'utf8')).id, 'h1', 'poststop ran at delete');

  const failing = bundle(['true'], (s) => (s.hooks = { createRuntime: [{ path: '/bin/sh', args: ['sh', '-c', 'exit 3'] }] }));
  const f = berth(['create', '--bundle', failing, 'h2']);
  t.equal(f.code, 1);
  t.match(f.stderr, /createRuntime hook \/bin\/sh failed: exit status 3/);
  t.notOk(existsSync(join(root, 'h2')), 'nothing left');
  const slow = bundle(['true'], (s) => (s.hooks = { createContainer: [{ path: '/bin/sh', args: ['sh', '-c', 'sleep 5'], timeout: 1 }] }));
  const sl = berth(['create', '--bundle', slow, 'h3']);
  t.equal(sl.code, 1);
  t.match(sl.stderr, /ETIMEDOUT/);
  const warn = bundle(['true'], (s) => (s.hooks = { poststop: [{ path: '/bin/sh', args: ['sh', '-c', 'exit 1'] }] }));
  const w = berth(['run', '--bundle', warn, 'h4']);
  t.equal(w.code, 0, 'a failing poststop hook does not fail run');
  t.match(w.stderr, /warning: poststop hook \/bin\/sh failed: exit status 1/);
});

t.test('LISTEN_FDS: socket-activation fds and env pass to the container (systemd starting berth)', async (t) => {
  const a = join(work, 'listen-a'), b2 = join(work, 'listen-b');
  writeFileSync(a, 'A\n');
  writeFileSync(b2, 'B\n');
  const fa = openSync(a, 'r'), fb = openSync(b2, 'r');
  t.teardown(() => {
    closeSync(fa);
    closeSync(fb);
  });
  const r = berth(['run', '--preserve-fds', '1', '--bundle', bundle(['sh', '-c', 'echo $LISTEN_FDS $LISTEN_PID $LISTEN_FDNAMES; cat <&3; cat <&4; ls /proc/1/fd; true']), 'l1'], {
    fds: [fa, fb],
    env: { ...process.env, LISTEN_FDS: '1', LISTEN_PID: '1', LISTEN_FDNAMES: 'web' },
  });
  t.equal(r.code, 0, r.stderr);
  const [env, one, two, ...fds] = r.stdout.trim().split('\n');
  t.equal(env, '1 1 web', 'LISTEN_FDS, LISTEN_PID=1 and LISTEN_FDNAMES');
  t.equal(one, 'A', 'the activation fd is 3');
  t.equal(two, 'B', 'the preserved fd follows as 4');
  t.equal(fds.join(' '), '0 1 2 3 4', 'stdio + LISTEN_FDS + --preserve-fds, nothing else');
});

t.test('NOTIFY_SOCKET: READY=1 from the container reaches the host socket; start waits for it', async (t) => {
  const dir = mkdtempSync('/tmp/bth-notify-');
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  // A tiny static sd_notify client (busybox has none), bound into the container.
  writeFileSync(
    join(dir, 'notify.c'),
    `#include <string.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
int main(int argc, char **argv) {
  const char *p = getenv("NOTIFY_SOCKET");
  if (!p) return 2;
  struct sockaddr_un a = {.sun_family = AF_UNIX};
  strncpy(a.sun_path, p, sizeof a.sun_path - 1);
  int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
  return sendto(fd, argv[1], strlen(argv[1]), 0, (struct sockaddr *)&a, sizeof a) < 0;
}
`,
  );
  spawnSync('gcc', ['-static', '-O2', '-o', join(dir, 'notify'), join(dir, 'notify.c')]);
  const { native } = await import('../../src/native.js');
  const hostSock = join(dir, 'host.sock');
  const fd = native().dgramBind(hostSock);
  t.teardown(() => native().close(fd));
  const b = bundle(['sh', '-c', 'sleep 0.3; /notify/notify STATUS=starting; /notify/notify READY=1; sleep 30'], (s) => {
    s.mounts!.push({ destination: '/notify', type: 'bind', source: dir, options: ['rbind', 'ro'] });
  });
  const env = { ...process.env, NOTIFY_SOCKET: hostSock };
  t.equal(berth(['create', '--bundle', b, 'n1'], { env }).code, 0);
  const t0 = Date.now();
  const s = berth(['start', 'n1'], { env });
  t.equal(s.code, 0, s.stderr);
  t.ok(Date.now() - t0 >= 250, 'start returned after the container said READY=1');
  t.equal(native().dgramRecv(fd, 1000)?.toString(), 'STATUS=starting');
  t.equal(native().dgramRecv(fd, 1000)?.toString(), 'READY=1');
  t.equal(berth(['delete', '--force', 'n1']).code, 0);
});
