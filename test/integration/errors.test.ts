// Failures: each rejects with the right error (BerthError: code, errno,
// syscall, path, step, containerId; SpecError: code and field) and leaves
// nothing behind: no mount on the host, no child process (zombie or not),
// no fd open in this Node process.
import t, { type Test } from 'tap';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BerthError, create, run, SpecError, type Spec } from '../../src/index.js';
import { childPids as children, fdTable, rootfs, spec } from '../helpers.js';

// --- what a failure may not leave behind ------------------------------------

interface Snapshot {
  fds: Map<string, string>;
  children: string[];
  mounts: string[];
}


const snapshot = (): Snapshot => ({ fds: fdTable(), children: children(), mounts: readFileSync('/proc/self/mountinfo', 'utf8').trim().split('\n') });

const sleep = (ms: number) => new Promise((res) => setTimeout(res, ms));

/** Asserts the state is back to `before`; waits up to a second for closes and reaps to settle. */
async function nothingLeft(t: Test, before: Snapshot) {
  let now = snapshot();
  for (let i = 0; i < 20; i++) {
    const same = now.children.length === before.children.length && now.fds.size === before.fds.size;
    if (same) break;
    await sleep(50);
    now = snapshot();
  }
  const newFds = [...now.fds].filter(([fd, target]) => before.fds.get(fd) !== target).map(([fd, target]) => `${fd} -> ${target}`);
  t.same(newFds, [], 'no fd left open in Node');
  const zombies = now.children.filter((p) => !before.children.includes(p)).map((p) => `${p} (${stateOf(p)})`);
  t.same(zombies, [], 'no child process left (running or zombie)');
  t.same(now.mounts, before.mounts, 'no mount left on the host');
}

function stateOf(pid: string): string {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ')[0]!;
  } catch {
    return 'gone';
  }
}

/** The rejection of `p`, which must reject. */
async function rejection(t: Test, p: Promise<unknown>): Promise<any> {
  let value: unknown;
  try {
    value = await p;
  } catch (e) {
    return e;
  }
  const shown = JSON.stringify(value, (_k, v) => (v?.type === 'Buffer' ? Buffer.from(v.data).toString() : v));
  t.fail(`expected a rejection, got ${shown}`);
  return {};
}

/** Runs `fn` between two snapshots, asserting it left nothing behind. */
async function clean<T>(t: Test, fn: () => Promise<T>): Promise<T> {
  const before = snapshot();
  const r = await fn();
  await nothingLeft(t, before);
  return r;
}

function expectBerth(t: Test, e: any, want: { code: string; step: string | RegExp; path?: string | RegExp; syscall?: string; id?: string }) {
  if (!t.type(e, BerthError, `a BerthError: ${e?.message}`)) return;
  t.equal(e.code, want.code, 'code');
  t.equal(e.errno, -(errnoOf[want.code] ?? NaN), 'errno, negative as in Node');
  if (typeof want.step === 'string') t.equal(e.step, want.step, 'step');
  else t.match(e.step, want.step, 'step');
  if (want.path instanceof RegExp) t.match(e.path, want.path, 'path');
  else if (want.path !== undefined) t.equal(e.path, want.path, 'path');
  if (want.syscall) t.equal(e.syscall, want.syscall, 'syscall');
  if (want.id) t.equal(e.containerId, want.id, 'containerId');
}

const errnoOf: Record<string, number> = { ENOENT: 2, EACCES: 13, EINVAL: 22, ENOEXEC: 8 };

function expectSpec(t: Test, e: any, field: string, problem?: RegExp) {
  if (!t.type(e, SpecError, `a SpecError: ${e?.message}`)) return;
  t.equal(e.code, 'EINVAL');
  t.equal(e.field, field, 'field');
  t.ok(String(e.message).startsWith(`${field}: `), 'message is "<field>: <problem>"');
  if (problem) t.match(e.problem, problem);
}

const withUserns = (s: Spec, uid: { containerID: number; hostID: number; size: number }[], gid = uid) => {
  s.linux!.namespaces!.push({ type: 'user' });
  s.linux!.uidMappings = uid;
  s.linux!.gidMappings = gid;
};

// Node opens a few fds lazily on a first container (e.g. /dev/null); let that happen before any snapshot.
t.before(async () => {
  await run({ spec: spec(['true']), stdio: ['ignore', 'pipe', 'pipe'] });
});

// --- setup failures ---------------------------------------------------------

t.test('a missing rootfs: ENOENT, step about the rootfs, path the rootfs', async (t) => {
  const missing = join(tmpdir(), `berth-no-rootfs-${process.pid}`);
  const e = await clean(t, () => rejection(t, create({ id: 'no-rootfs', spec: spec(['true'], (s) => (s.root!.path = missing)) })));
  expectBerth(t, e, { code: 'ENOENT', step: /rootfs/, path: missing, id: 'no-rootfs' });
  t.match(e.message, /^ENOENT: no such file or directory, \w+ '.*' \(.*rootfs.*\)/);
});

t.test('a missing rootfs through run()', async (t) => {
  const missing = join(tmpdir(), `berth-no-rootfs-${process.pid}`);
  const e = await clean(t, () => rejection(t, run({ spec: spec(['true'], (s) => (s.root!.path = missing)) })));
  expectBerth(t, e, { code: 'ENOENT', step: /rootfs/, path: missing });
});

t.test('a bind mount of a missing source: step names the mount', async (t) => {
  const e = await clean(t, () =>
    rejection(t, run({ spec: spec(['true'], (s) => s.mounts!.push({ destination: '/data', type: 'bind', source: '/nonexistent-berth-src', options: ['bind'] })) })),
  );
  expectBerth(t, e, { code: 'ENOENT', step: 'mount /data', path: '/nonexistent-berth-src' });
});

// --- exec failures -----------------------------------------------------------

t.test('a missing executable: start() rejects with ENOENT, step exec', async (t) => {
  const before = snapshot();
  const c = await create({ id: 'no-exe', spec: spec(['/nope']) });
  const e = await rejection(t, c.start());
  expectBerth(t, e, { code: 'ENOENT', step: 'exec', path: '/nope', syscall: 'execve', id: 'no-exe' });
  t.match(e.message, /^ENOENT: no such file or directory, execve '\/nope' \(exec\)/);
  t.equal(c.status, 'stopped');
  await c.delete();
  await nothingLeft(t, before);
});

t.test('a missing executable through run()', async (t) => {
  const e = await clean(t, () => rejection(t, run({ spec: spec(['/nope']) })));
  expectBerth(t, e, { code: 'ENOENT', step: 'exec', path: '/nope' });
});

t.test('a bare command not on PATH: ENOENT', async (t) => {
  const e = await clean(t, () => rejection(t, run({ spec: spec(['echo'], (s) => (s.process!.env = ['PATH=/nowhere'])) })));
  expectBerth(t, e, { code: 'ENOENT', step: 'exec', path: 'echo' });
});

t.test('a file that is not executable: EACCES', async (t) => {
  const e = await clean(t, () => rejection(t, run({ spec: spec(['/etc/passwd']) })));
  expectBerth(t, e, { code: 'EACCES', step: 'exec', path: '/etc/passwd' });
  t.match(e.message, /^EACCES: permission denied, execve '\/etc\/passwd' \(exec\)/);
  const dir = await clean(t, () => rejection(t, run({ spec: spec(['/bin']) })));
  expectBerth(t, dir, { code: 'EACCES', step: 'exec', path: '/bin' });
});

t.test('an executable file in no known format: ENOEXEC, not run by a shell (runc: "exec format error")', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-noexec-'));
  const target = `/berth-noexec-${process.pid}`;
  t.teardown(() => {
    rmSync(dir, { recursive: true, force: true });
    rmSync(join(rootfs, target), { force: true }); // the mount point made in the rootfs
  });
  writeFileSync(join(dir, 'script'), 'echo ran by a shell\n'); // no #! line
  chmodSync(join(dir, 'script'), 0o755);
  const e = await clean(t, () =>
    rejection(
      t,
      run({ spec: spec([target], (s) => s.mounts!.push({ destination: target, type: 'bind', source: join(dir, 'script'), options: ['bind', 'ro'] })) }),
    ),
  );
  expectBerth(t, e, { code: 'ENOEXEC', step: 'exec', path: target });
});

// --- user namespace maps -------------------------------------------------------

t.test('a uid map the kernel refuses: EINVAL at the uid/gid map step', async (t) => {
  // Valid JSON and within the spec's ranges, but uid 4294967295 can never be mapped.
  const bad = [{ containerID: 0, hostID: 4294967295, size: 1 }];
  const good = [{ containerID: 0, hostID: 100000, size: 65536 }];
  const e = await clean(t, () => rejection(t, run({ id: 'bad-uidmap', spec: spec(['true'], (s) => withUserns(s, bad, good)) })));
  expectBerth(t, e, { code: 'EINVAL', step: /uid\/gid map/, id: 'bad-uidmap' });
  t.match(`${e.path} ${e.message}`, /uid_map/, 'the error names the file it failed to write');
  const g = await clean(t, () => rejection(t, run({ spec: spec(['true'], (s) => withUserns(s, good, bad)) })));
  expectBerth(t, g, { code: 'EINVAL', step: /uid\/gid map/ });
  t.match(`${g.path} ${g.message}`, /gid_map/, 'the error names the file it failed to write');
});

t.test('overlapping uid map entries: a SpecError naming the entry', async (t) => {
  const e = await clean(t, () =>
    rejection(
      t,
      run({
        spec: spec(['true'], (s) =>
          withUserns(s, [
            { containerID: 0, hostID: 100000, size: 65536 },
            { containerID: 0, hostID: 200000, size: 1 },
          ]),
        ),
      }),
    ),
  );
  expectSpec(t, e, 'linux.uidMappings[1]', /overlap/);
});

t.test('a user namespace without maps', async (t) => {
  const e = await clean(t, () => rejection(t, run({ spec: spec(['true'], (s) => s.linux!.namespaces!.push({ type: 'user' })) })));
  t.equal(e.code, 'EINVAL');
  t.match(e.field, /^linux\.(uid|gid)Mappings/);
});

// --- spec errors ---------------------------------------------------------------

t.test('an unknown namespace type', async (t) => {
  let n = -1;
  const e = await clean(t, () =>
    rejection(
      t,
      run({
        spec: spec(['true'], (s) => {
          n = s.linux!.namespaces!.push({ type: 'bogus' as never }) - 1;
        }),
      }),
    ),
  );
  expectSpec(t, e, `linux.namespaces[${n}].type`, /unknown namespace type "bogus"/);
});

t.test('malformed process.args', async (t) => {
  const cases: [string, (s: Spec) => void, string][] = [
    ['not an array', (s) => ((s.process as any).args = 'sh -c true'), 'process.args'],
    ['empty', (s) => (s.process!.args = []), 'process.args'],
    ['args[0] empty', (s) => (s.process!.args = ['']), 'process.args[0]'],
    ['a non-string argument', (s) => ((s.process as any).args = ['sh', 5]), 'process.args[1]'],
    ['missing', (s) => delete (s.process as any).args, 'process.args'],
  ];
  for (const [name, edit, field] of cases) {
    const e = await clean(t, () => rejection(t, run({ spec: spec(['true'], edit) })));
    t.test(name, async (t) => expectSpec(t, e, field));
  }
});

t.test('an unknown capability name', async (t) => {
  const e = await clean(t, () => rejection(t, run({ spec: spec(['true'], (s) => s.process!.capabilities!.bounding!.push('CAP_BOGUS')) })));
  expectSpec(t, e, 'process.capabilities.bounding[3]', /unknown capability "CAP_BOGUS"/);
  const eff = await rejection(t, run({ spec: spec(['true'], (s) => (s.process!.capabilities!.effective = ['CAP_KILL', 'cap_kill'])) }));
  expectSpec(t, eff, 'process.capabilities.effective[1]');
});

t.test('the spec is validated before anything runs: a spec that is not an object', async (t) => {
  const e = await clean(t, () => rejection(t, create({ spec: 'config.json' })));
  t.type(e, SpecError);
  t.equal(e.code, 'EINVAL');
});

t.test('an invalid container id', async (t) => {
  const e = await clean(t, () => rejection(t, create({ id: '../escape', spec: spec(['true']) })));
  t.type(e, BerthError);
  t.equal(e.code, 'EINVAL');
  t.equal(e.containerId, '../escape');
});

// --- lifecycle misuse --------------------------------------------------------------

t.test('start() twice and delete() of a running container: EBUSY', async (t) => {
  const before = snapshot();
  const c = await create({ id: 'busy', spec: spec(['sh', '-c', 'read x']) });
  await c.start();
  const again = await rejection(t, c.start());
  t.type(again, BerthError);
  t.equal(again.code, 'EBUSY');
  t.equal(again.step, 'start');
  const del = await rejection(t, c.delete());
  t.equal(del.code, 'EBUSY');
  t.equal(c.status, 'running', 'a refused delete leaves it running');
  await c.delete({ force: true });
  t.same(await c.wait(), { exitCode: 137, signal: 'SIGKILL' }, 'force kills it');
  await nothingLeft(t, before);
});

t.test('a created container that is never started, then deleted', async (t) => {
  const before = snapshot();
  const c = await create({ spec: spec(['true']) });
  t.equal(c.status, 'created');
  await c.delete({ force: true });
  t.equal(c.status, 'stopped');
  await nothingLeft(t, before);
});
