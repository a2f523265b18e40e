// The CLI server behind bin/berth (native/front.md): short verbs served by a
// long-lived process must behave exactly as a direct call would: the
// caller's cwd, environment and fds, the container a descendant of the
// caller, output and exit status; and the server must come and go cleanly.
import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultSpec, type Spec } from '../../src/index.js';
import { cliServers, rootfs, stopCliServers, testDir } from '../helpers.js';
import { berthCli, bin } from '../cli.js';

const root = mkdtempSync('/tmp/bth-root-');
const work = mkdtempSync('/tmp/bth-srv-');
const sockDir = '/run/berth/.cli';
t.teardown(async () => {
  for (const id of berth(['list', '-q']).stdout.split('\n').filter(Boolean)) berth(['delete', '--force', id]);
  await stopCliServers();
  rmSync(root, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
});

const berth = berthCli(root, work);

let n = 0;
/** A bundle whose createRuntime hook records its parent pid (the process that ran create). */
function bundle(args: string[], edit?: (s: Spec) => void): { dir: string; hookParent: () => number } {
  const dir = join(work, `b${n++}`);
  mkdirSync(dir);
  const s = defaultSpec();
  s.process!.terminal = false;
  s.process!.args = args;
  s.root = { path: rootfs, readonly: true };
  const file = join(dir, 'hook-ppid');
  s.hooks = { createRuntime: [{ path: '/bin/sh', args: ['sh', '-c', `echo $PPID > ${file}`] }] };
  edit?.(s);
  writeFileSync(join(dir, 'config.json'), JSON.stringify(s));
  return { dir, hookParent: () => Number(readFileSync(file, 'utf8')) };
}

/** This build's files in the server's socket directory (other builds may have servers too). */
const ours = () => {
  const st = statSync(join(testDir, '..', 'dist', 'berth.mjs'));
  const prefix = `${process.getuid!()}-${st.ino.toString(16)}-`;
  return existsSync(sockDir) ? readdirSync(sockDir).filter((f) => f.startsWith(prefix)) : [];
};

const until = async (what: () => boolean, ms = 10_000) => {
  for (const end = Date.now() + ms; !what() && Date.now() < end; ) await new Promise((r) => setTimeout(r, 20));
  return what();
};

/** A fresh server of this build, started by a first call; its pid. */
async function freshServer(env: NodeJS.ProcessEnv = process.env): Promise<number> {
  await stopCliServers();
  t.equal(berth(['list'], { env }).code, 0);
  await until(() => cliServers().length === 1 && ours().some((f) => f.endsWith('.sock')));
  return cliServers()[0] ?? 0;
}

t.test('a served create: the container is the caller\'s descendant, its hooks the server\'s children', async (t) => {
  const server = await freshServer();
  t.ok(server > 0, 'a first call starts a server');
  const b = bundle(['sh', '-c', 'exit 7']);
  // A subreaper, as conmon and the containerd shim are: it must reap the container's process.
  const py = `
import ctypes, json, os, subprocess, sys
ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)
b, root, bundle = sys.argv[1:4]
subprocess.run([b, '--root', root, 'create', '-b', bundle, 'sr'], check=True)
st = json.loads(subprocess.run([b, '--root', root, 'state', 'sr'], capture_output=True, check=True).stdout)
subprocess.run([b, '--root', root, 'start', 'sr'], check=True)
pid, status = os.wait()
print(json.dumps({'pid': pid, 'state': st['pid'], 'code': os.waitstatus_to_exitcode(status)}))`;
  const r = spawnSync('python3', ['-c', py, bin, root, b.dir], { encoding: 'utf8', timeout: 30_000 });
  t.equal(r.status, 0, r.stderr);
  const got = JSON.parse(r.stdout);
  t.equal(got.pid, got.state, 'the subreaper reaped the container process');
  t.equal(got.code, 7, 'and read its exit status');
  t.equal(b.hookParent(), server, 'create ran in the server');
  t.equal(berth(['delete', 'sr']).code, 0);
});

t.test('with BERTH_NO_SERVER=1 the call runs on its own', async (t) => {
  await freshServer();
  const b = bundle(['true']);
  const r = berth(['create', '-b', b.dir, 'ns'], { env: { ...process.env, BERTH_NO_SERVER: '1' } });
  t.equal(r.code, 0, r.stderr);
  t.not(b.hookParent(), cliServers()[0], 'not the server');
  t.equal(berth(['delete', '--force', 'ns']).code, 0);
});

t.test('each served call has its own cwd, environment and fds', async (t) => {
  const server = await freshServer();
  const a = bundle(['sh', '-c', 'echo "fds=${LISTEN_FDS:-none}"; cat <&3 2>/dev/null']);
  const cwd = join(work, 'cwd');
  mkdirSync(cwd);
  const input = join(work, 'listen');
  writeFileSync(input, 'from fd 3\n');
  const outFile = join(work, 'container-out');
  const run = async (id: string, env: NodeJS.ProcessEnv, fds: number[]) => {
    // Files, not pipes: the created process keeps its stdio until it runs.
    const o = openSync(outFile, 'w'), e = openSync(join(work, 'create-err'), 'w');
    try {
      // the relative bundle and pid file resolve against the caller's cwd
      const c = spawnSync(bin, ['--root', root, 'create', '-b', `../${a.dir.split('/').pop()}`, '--pid-file', 'pid', id], {
        cwd, env, stdio: ['ignore', o, e, ...fds], timeout: 30_000,
      });
      t.equal(c.status, 0, readFileSync(join(work, 'create-err'), 'utf8'));
    } finally {
      closeSync(o);
      closeSync(e);
    }
    t.equal(a.hookParent(), server, `${id} was served`);
    t.equal(Number(readFileSync(join(cwd, 'pid'), 'utf8')), JSON.parse(berth(['state', id]).stdout).pid, 'pid file in the caller\'s cwd');
    t.equal(berth(['start', id]).code, 0);
    t.ok(await until(() => JSON.parse(berth(['state', id]).stdout).status === 'stopped'), 'it ran');
    t.equal(berth(['delete', id]).code, 0);
    return readFileSync(outFile, 'utf8');
  };
  const fd = openSync(input, 'r');
  try {
    t.equal(await run('env1', { ...process.env, LISTEN_FDS: '1' }, [fd]), 'fds=1\nfrom fd 3\n', 'LISTEN_FDS and fd 3 of this caller');
  } finally {
    closeSync(fd);
  }
  const plain = { ...process.env };
  delete plain.LISTEN_FDS;
  t.equal(await run('env2', plain, []), 'fds=none\n', 'nothing of the previous caller');
});

t.test('served errors: status 1, the message on stderr, one JSON line in --log', async (t) => {
  await freshServer();
  const log = join(work, 'log.json');
  const r = berth(['--log', log, '--log-format', 'json', 'state', 'nope']);
  t.equal(r.code, 1);
  t.equal(r.stderr, 'container nope does not exist\n');
  t.equal(r.stdout, '');
  const lines = readFileSync(log, 'utf8').trim().split('\n');
  t.equal(lines.length, 1);
  t.match(JSON.parse(lines[0]!), { level: 'error', msg: 'container nope does not exist' });
  t.equal(berth(['list', '--format', 'json']).stdout.trim(), '[]', 'stdout of a served call');
});

t.test('a call that comes while the server is busy runs on its own, without waiting', async (t) => {
  const server = await freshServer();
  const started = join(work, 'hook-started'), finished = join(work, 'hook-finished');
  const b = bundle(['true'], (s) => {
    s.hooks!.createRuntime!.push({ path: '/bin/sh', args: ['sh', '-c', `touch ${started}; sleep 3; touch ${finished}`] });
  });
  const slow = spawn(bin, ['--root', root, 'create', '-b', b.dir, 'slow'], { stdio: 'ignore' });
  const done = new Promise((r) => slow.once('exit', r));
  t.ok(await until(() => existsSync(started)), 'the slow create is in its hook');
  t.equal(b.hookParent(), server, 'in the server');
  const r = berth(['list', '-q']);
  t.equal(r.code, 0, r.stderr);
  t.notOk(existsSync(finished), 'answered while the server was still busy');
  await done;
  t.ok(existsSync(finished));
  t.equal(berth(['delete', '--force', 'slow']).code, 0);
});

t.test('a served exec: its output and exit code, and signals to berth reach the process', async (t) => {
  await freshServer();
  const b = bundle(['sh', '-c', 'while :; do sleep 0.1; done']);
  t.equal(berth(['run', '-d', '-b', b.dir, 'ex']).code, 0);
  const e = berth(['exec', 'ex', 'sh', '-c', 'echo in $(cat /proc/1/comm); exit 6']);
  t.equal(e.code, 6, e.stderr);
  t.equal(e.stdout, 'in sh\n');
  const p = spawn(bin, ['--root', root, 'exec', 'ex', 'sh', '-c', `trap "exit 9" TERM; echo up; while :; do sleep 0.1; done`], { stdio: ['ignore', 'pipe', 'ignore'] });
  const exited = new Promise<number | null>((r) => p.once('exit', (c) => r(c)));
  await new Promise((r) => p.stdout!.once('data', r));
  p.kill('SIGTERM');
  t.equal(await exited, 9, 'SIGTERM to berth exec reached the process, whose exit code is ours');
  t.equal(berth(['delete', '--force', 'ex']).code, 0);
});

t.test('the server leaves when idle, on SIGTERM, and a killed one is replaced', async (t) => {
  const idle = await freshServer({ ...process.env, BERTH_SERVER_IDLE_MS: '300' });
  t.ok(idle > 0);
  t.ok(await until(() => !cliServers().includes(idle)), 'gone after its idle time');
  t.same(ours(), [], 'its socket and lock removed');

  const term = await freshServer();
  process.kill(term, 'SIGTERM');
  t.ok(await until(() => !cliServers().includes(term)), 'SIGTERM ends it');
  t.same(ours(), [], 'and it cleans up');

  const killed = await freshServer();
  process.kill(killed, 'SIGKILL');
  await until(() => !cliServers().includes(killed));
  t.ok(ours().some((f) => f.endsWith('.sock')), 'a stale socket stays');
  const b = bundle(['true']);
  t.equal(berth(['create', '-b', b.dir, 'after']).code, 0, 'calls still work');
  t.ok(await until(() => cliServers().length === 1), 'and a new server comes');
  t.equal(berth(['delete', '--force', 'after']).code, 0);
});
