// The container's process as the spec describes it: exit status, signals,
// stdio, environment, identity, capabilities, limits and the isolation of
// its filesystem view, hostname, sysctls and fds. Real kernel, busybox rootfs.
import t from 'tap';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { accessSync, closeSync, constants, existsSync, fstatSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { create, run, type Container, type Spec } from '../../src/index.js';
import { out, rootfs, sh, spec } from '../helpers.js';

// --- tiny helpers ----------------------------------------------------------

/** A 64-bit capability mask as /proc/<pid>/status prints it. */
const capHex = (...bits: number[]) => bits.reduce((m, b) => m | (1n << BigInt(b)), 0n).toString(16).padStart(16, '0');
const CAP = { CHOWN: 0, KILL: 5, NET_BIND_SERVICE: 10, NET_RAW: 13, SYS_ADMIN: 21, AUDIT_WRITE: 29, SYSLOG: 34, BPF: 39, CHECKPOINT_RESTORE: 40 };

/** The fields of a /proc/<pid>/status text, e.g. status(text).CapEff. */
function status(text: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^(\w+):\s*(.*)$/.exec(line);
    if (m) fields[m[1]!] = m[2]!.trim();
  }
  return fields;
}

/** Every capability set of the spec's process set to `names`. */
function allCaps(s: Spec, names: string[]) {
  s.process!.capabilities = { bounding: [...names], effective: [...names], permitted: [...names], inheritable: [...names], ambient: [...names] };
}

function addCap(s: Spec, name: string) {
  const c = s.process!.capabilities!;
  for (const set of [c.bounding, c.effective, c.permitted]) set!.push(name);
}

/** A container started with piped stdio; `line()` resolves with its next stdout line. */
async function started(script: string, edit?: (s: Spec) => void, opts: { init?: boolean } = {}): Promise<{ c: Container; line: () => Promise<string> }> {
  const c = await create({ spec: spec(['sh', '-c', script], edit), ...opts });
  let buf = '';
  const waiting: ((l: string) => void)[] = [];
  const lines: string[] = [];
  c.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const l = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      const w = waiting.shift();
      if (w) w(l);
      else lines.push(l);
    }
  });
  await c.start();
  const line = () => (lines.length ? Promise.resolve(lines.shift()!) : new Promise<string>((res) => waiting.push(res)));
  return { c, line };
}

const noPidNs = (s: Spec) => {
  s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'pid');
};

const mountinfo = () => readFileSync('/proc/self/mountinfo', 'utf8').trim().split('\n');

// --- exit status and signals -----------------------------------------------

t.test('exit codes', async (t) => {
  for (const code of [0, 3, 255]) {
    const r = await sh(`exit ${code}`);
    t.equal(r.exitCode, code, `exit ${code}`);
    t.equal(r.signal, undefined, `exit ${code}: no signal`);
  }
  const direct = await run({ spec: spec(['false']) });
  t.equal(direct.exitCode, 1, 'an exec’d program’s status (no shell)');
});

t.test('SIGKILL from outside: 137 and signal SIGKILL', async (t) => {
  const { c, line } = await started('echo up; while :; do sleep 0.1; done');
  t.equal(await line(), 'up');
  t.equal(c.kill('SIGKILL'), true, 'kill() reports the signal was sent');
  t.same(await c.wait(), { exitCode: 137, signal: 'SIGKILL' });
  t.equal(c.status, 'stopped');
  t.equal(c.kill('SIGKILL'), false, 'kill() after the exit is false');
  await c.delete();
});

t.test('SIGTERM reaches a trapping init; its exit code is reported', async (t) => {
  const { c, line } = await started("trap 'echo got TERM; exit 5' TERM; echo up; while :; do sleep 0.1; done");
  t.equal(await line(), 'up');
  c.kill('SIGTERM');
  t.equal(await line(), 'got TERM');
  t.same(await c.wait(), { exitCode: 5 }, 'exit code 5, no signal');
  await c.delete();
});

t.test('init: a stub init is pid 1, the process pid 2; it reaps orphans', async (t) => {
  const r = await run({
    spec: spec(['sh', '-c', 'echo $$ $(cat /proc/1/comm); sh -c "sleep 0.1 & exit 0"; sleep 0.6; grep -l "^State:.*Z" /proc/[0-9]*/status || echo no zombie; exit 4']),
    init: true,
  });
  t.equal(String(r.stdout), '2 berth-init\nno zombie\n', 'the orphaned sleep was reaped by pid 1');
  t.same([r.exitCode, r.signal], [4, undefined], 'the exit code is the process\'s');
  const alone = await run({ spec: spec(['sh', '-c', 'ls /proc/1/fd | wc -l; grep ^CapEff /proc/1/status; grep ^NoNewPrivs /proc/1/status']), init: true });
  t.same(String(alone.stdout).split('\n').map((l) => l.replace(/\s+/g, ' ').trim()), ['0', `CapEff: ${capHex(CAP.KILL)}`, 'NoNewPrivs: 1', ''], 'the stub holds no fd and keeps only CAP_KILL');
  const nopid = await run({ spec: spec(['sh', '-c', 'sh -c "sleep 0.1 & exit 0"; sleep 0.6; grep -l "^State:.*Z" /proc/[0-9]*/status || echo no zombie'], noPidNs), init: true });
  t.equal(String(nopid.stdout), 'no zombie\n', 'without a pid namespace, a subreaper');
});

t.test('init: signals pass on to the process; its death by a signal is 128+N', async (t) => {
  const { c, line } = await started("trap 'echo got TERM; exit 5' TERM; echo up $$; while :; do sleep 0.1; done", undefined, { init: true });
  t.equal(await line(), 'up 2');
  c.kill('SIGTERM');
  t.equal(await line(), 'got TERM');
  t.same(await c.wait(), { exitCode: 5 });
  await c.delete();
  const self = await run({ spec: spec(['sh', '-c', 'kill -KILL $$']), init: true });
  t.same([self.exitCode, self.signal], [137, undefined], 'SIGKILL of the process: 137 from the stub');
  const k = await started('echo up; while :; do sleep 0.1; done', undefined, { init: true });
  t.equal(await k.line(), 'up');
  k.c.kill('SIGKILL');
  t.same(await k.c.wait(), { exitCode: 137, signal: 'SIGKILL' }, 'SIGKILL from outside ends the stub and all');
  await k.c.delete();
});

t.test('a numeric signal works like its name', async (t) => {
  const { c, line } = await started("trap 'exit 12' USR1; echo up; while :; do sleep 0.1; done");
  t.equal(await line(), 'up');
  c.kill(10); // SIGUSR1 on x86_64
  t.same(await c.wait(), { exitCode: 12 });
  await c.delete();
});

t.test('a process (not a pid-namespace init) killed by a signal it sent itself', async (t) => {
  const k = await sh('kill -KILL $$', noPidNs);
  t.same([k.exitCode, k.signal], [137, 'SIGKILL']);
  const term = await sh('kill -TERM $$', noPidNs);
  t.same([term.exitCode, term.signal], [143, 'SIGTERM']);
});

t.test('a child killed by a signal inside is the shell’s business', async (t) => {
  const r = await sh('sh -c \'kill -KILL $$\'; echo "child status $?"; exit 4');
  t.equal(out(r), 'child status 137\n');
  t.same([r.exitCode, r.signal], [4, undefined]);
});

// --- stdio -----------------------------------------------------------------

t.test('stdin is echoed back through cat, byte for byte', async (t) => {
  const text = await sh('cat', undefined, 'hello\nworld');
  t.equal(out(text), 'hello\nworld');
  const bytes = randomBytes(1 << 20);
  const r = await run({ spec: spec(['cat']), input: bytes });
  t.equal(r.exitCode, 0);
  t.ok(r.stdout.equals(bytes), '1 MiB of random bytes come back unchanged');
});

t.test('stderr is separate from stdout', async (t) => {
  const r = await sh('echo out; echo err >&2; echo out2');
  t.equal(out(r), 'out\nout2\n');
  t.equal(r.stderr.toString(), 'err\n');
});

t.test('interactive: stdin and stdout stream while the process runs', async (t) => {
  const { c, line } = await started('while read l; do echo "got $l"; done; echo bye');
  c.stdin!.write('a\n');
  t.equal(await line(), 'got a');
  c.stdin!.write('b\n');
  t.equal(await line(), 'got b');
  c.stdin!.end();
  t.equal(await line(), 'bye', 'EOF on stdin reaches the process');
  t.same(await c.wait(), { exitCode: 0 });
  await c.delete();
});

t.test('20 MB of output arrives complete', async (t) => {
  const r = await sh('head -c 20000000 /dev/zero');
  t.equal(r.exitCode, 0);
  t.equal(r.stdout.length, 20_000_000);
  t.ok(r.stdout.equals(Buffer.alloc(20_000_000)), 'all zero bytes');
});

t.test('20 MB of input arrives complete', async (t) => {
  const r = await run({ spec: spec(['sh', '-c', 'cat | wc -c']), input: Buffer.alloc(20_000_000, 'x') });
  t.equal(r.exitCode, 0);
  t.equal(out(r).trim(), '20000000');
});

t.test('large stdout and stderr at the same time do not deadlock', async (t) => {
  const r = await sh('head -c 5000000 /dev/zero >&2 & head -c 6000000 /dev/zero; wait');
  t.equal(r.exitCode, 0);
  t.equal(r.stdout.length, 6_000_000);
  t.equal(r.stderr.length, 5_000_000);
});

t.test("stdio 'inherit': the container uses the Node process's own 0, 1, 2", async (t) => {
  // A child Node process runs the container with 'inherit'; we hold its stdio.
  const index = new URL('../../src/index.js', import.meta.url).href;
  const s = spec(['sh', '-c', 'read l; echo "out $l"; echo "err $l" >&2; exit 7']);
  const code = `import { run } from ${JSON.stringify(index)};
    const r = await run({ spec: JSON.parse(process.argv[1]), stdio: 'inherit' });
    process.exitCode = r.exitCode;`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', code, JSON.stringify(s)], { stdio: 'pipe' });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  child.stdin.end('hi\n');
  const exit = await new Promise<number | null>((res) => child.on('close', res));
  t.equal(stdout, 'out hi\n');
  t.equal(stderr, 'err hi\n');
  t.equal(exit, 7, "the container's exit code came back through run()");
});

t.test('stdio given as fds: files opened in Node', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-stdio-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'in'), 'from a file\n');
  const inFd = openSync(join(dir, 'in'), 'r');
  const outFd = openSync(join(dir, 'out'), 'w');
  const errFd = openSync(join(dir, 'err'), 'w');
  t.teardown(() => [inFd, outFd, errFd].forEach((fd) => closeSync(fd)));
  const r = await run({ spec: spec(['sh', '-c', 'read l; echo "out: $l"; echo "err: $l" >&2']), stdio: [inFd, outFd, errFd] });
  t.equal(r.exitCode, 0);
  t.equal(r.stdout.length + r.stderr.length, 0, 'nothing piped to Node');
  t.equal(readFileSync(join(dir, 'out'), 'utf8'), 'out: from a file\n');
  t.equal(readFileSync(join(dir, 'err'), 'utf8'), 'err: from a file\n');
  for (const fd of [inFd, outFd, errFd]) t.doesNotThrow(() => fstatSync(fd), `fd ${fd} is still open in Node`);
});

t.test('stdio mixed: one fd, the rest piped', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-stdio-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const fd = openSync(join(dir, 'out'), 'w');
  t.teardown(() => closeSync(fd));
  const r = await run({ spec: spec(['sh', '-c', 'cat; echo e >&2']), stdio: ['pipe', fd, 'pipe'], input: 'piped in\n' });
  t.equal(r.exitCode, 0);
  t.equal(readFileSync(join(dir, 'out'), 'utf8'), 'piped in\n');
  t.equal(r.stderr.toString(), 'e\n');
});

t.test("stdio 'ignore': /dev/null on 0, 1 and 2", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-stdio-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const report = openSync(join(dir, 'report'), 'w');
  t.teardown(() => closeSync(report));
  // The pipeline keeps the shell's (pid 1's) own fds as they were given; fd 3 is the report.
  const script = 'stat -L -c %F:%t:%T /proc/1/fd/0 /proc/1/fd/1 /proc/1/fd/2 | cat >&3; cat; echo lost; echo lost >&2';
  const r = await run({ spec: spec(['sh', '-c', script]), stdio: 'ignore', extraFds: [report] });
  t.equal(r.exitCode, 0, 'cat saw EOF at once');
  t.equal(r.stdout.length + r.stderr.length, 0);
  t.equal(readFileSync(join(dir, 'report'), 'utf8'), 'character special file:1:3\n'.repeat(3), '0, 1, 2 are /dev/null (1:3)');
});

// --- environment, cwd, hostname --------------------------------------------

t.test('env: the spec’s entries, and nothing of the host’s', async (t) => {
  process.env.BERTH_HOST_ONLY = 'leak';
  t.teardown(() => delete process.env.BERTH_HOST_ONLY);
  const r = await sh('echo "[$FOO][$EMPTY][${BERTH_HOST_ONLY-unset}]"; env | sort', (s) => {
    s.process!.env = ['PATH=/bin', 'FOO=bar baz', 'EMPTY='];
  });
  const [first, ...env] = out(r).trim().split('\n');
  t.equal(first, '[bar baz][][unset]');
  // The shell adds PWD and SHLVL of its own.
  t.same(env.filter((e) => !/^(PWD|SHLVL)=/.test(e)), ['EMPTY=', 'FOO=bar baz', 'PATH=/bin']);
});

t.test('a bare command is looked up in the container’s PATH', async (t) => {
  const r = await run({ spec: spec(['wc', '-c']), input: 'abc' });
  t.equal(r.exitCode, 0);
  t.equal(out(r).trim(), '3');
  const which = await run({ spec: spec(['wc', '-c'], (s) => (s.process!.env = ['PATH=/nowhere:/bin'])), input: 'abcd' });
  t.equal(out(which).trim(), '4', 'a missing PATH entry is skipped');
});

t.test('cwd is applied', async (t) => {
  const r = await run({ spec: spec(['pwd'], (s) => (s.process!.cwd = '/etc')) });
  t.equal(out(r), '/etc\n');
  const rel = await run({ spec: spec(['cat', 'hosts'], (s) => (s.process!.cwd = '/etc')) });
  t.equal(out(rel), '127.0.0.1 localhost\n', 'relative paths resolve against it');
});

t.test('a cwd missing from the rootfs is created (as runc and crun do)', async (t) => {
  const top = `berth-cwd-${process.pid}`;
  t.teardown(() => rmSync(join(rootfs, top), { recursive: true, force: true }));
  t.notOk(existsSync(join(rootfs, top)));
  const r = await run({ spec: spec(['sh', '-c', 'pwd; touch here'], (s) => (s.process!.cwd = `/${top}/a/b`)) });
  t.equal(r.exitCode, 0, r.stderr.toString());
  t.equal(out(r), `/${top}/a/b\n`);
  t.ok(existsSync(join(rootfs, top, 'a', 'b', 'here')), 'the directory is in the rootfs');
});

t.test('hostname and domainname are the container’s own', async (t) => {
  const before = hostname();
  const r = await sh('hostname; cat /proc/sys/kernel/domainname', (s) => {
    s.hostname = 'box1';
    s.domainname = 'example.test';
  });
  t.equal(out(r), 'box1\nexample.test\n');
  t.equal(hostname(), before, "the host's hostname is unchanged");
});

// --- identity --------------------------------------------------------------

t.test('user: uid, gid and additionalGids', async (t) => {
  const r = await sh('cat /proc/self/status; echo; id -u; id -g; id -G', (s) => {
    s.process!.user = { uid: 1000, gid: 1001, additionalGids: [10, 20] };
  });
  t.equal(r.exitCode, 0, r.stderr.toString());
  const st = status(out(r));
  t.equal(st.Uid, '1000\t1000\t1000\t1000', 'real, effective, saved and fs uid');
  t.equal(st.Gid, '1001\t1001\t1001\t1001');
  t.equal(st.Groups, '10 20', 'supplementary groups are exactly additionalGids');
  t.match(out(r), /\n1000\n1001\n1001 10 20\n$/);
});

t.test('user: root with no additionalGids has no supplementary groups', async (t) => {
  const st = status(out(await sh('cat /proc/self/status')));
  t.equal(st.Uid, '0\t0\t0\t0');
  t.equal(st.Groups, '', 'the host’s groups are dropped');
});

t.test('umask: applied, 0022 by default', async (t) => {
  const r = await sh('umask; touch /dev/shm/f; mkdir /dev/shm/d; stat -c %a /dev/shm/f /dev/shm/d', (s) => (s.process!.user!.umask = 0o077));
  t.equal(out(r), '0077\n600\n700\n');
  const d = await sh('umask');
  t.equal(out(d), '0022\n');
});

// --- capabilities, no_new_privs, rlimits, oom score ------------------------

t.test('capabilities: the masks follow the spec’s names', async (t) => {
  const r = await sh('cat /proc/self/status', (s) => allCaps(s, ['CAP_CHOWN', 'CAP_KILL']));
  const st = status(out(r));
  for (const f of ['CapEff', 'CapPrm', 'CapBnd', 'CapInh', 'CapAmb']) t.equal(st[f], '0000000000000021', `${f}: CAP_CHOWN+CAP_KILL`);
});

t.test('capabilities: the default spec (runc’s)', async (t) => {
  const st = status(out(await sh('cat /proc/self/status')));
  const want = capHex(CAP.AUDIT_WRITE, CAP.KILL, CAP.NET_BIND_SERVICE);
  t.equal(want, '0000000020000420');
  for (const f of ['CapEff', 'CapPrm', 'CapBnd']) t.equal(st[f], want, f);
  // Without inheritable, the kernel raises no ambient capability (runc alike).
  t.equal(st.CapInh, '0000000000000000');
  t.equal(st.CapAmb, '0000000000000000');
});

t.test('capabilities: numbers above 31 (the second 32-bit word)', async (t) => {
  const names = ['CAP_CHOWN', 'CAP_SYSLOG', 'CAP_BPF', 'CAP_CHECKPOINT_RESTORE'];
  const st = status(out(await sh('cat /proc/self/status', (s) => allCaps(s, names))));
  const want = capHex(CAP.CHOWN, CAP.SYSLOG, CAP.BPF, CAP.CHECKPOINT_RESTORE);
  for (const f of ['CapEff', 'CapPrm', 'CapBnd']) t.equal(st[f], want, f);
});

t.test('capabilities: different bounding and effective sets for root', async (t) => {
  const st = status(
    out(
      await sh('cat /proc/self/status', (s) => {
        s.process!.capabilities = { bounding: ['CAP_CHOWN', 'CAP_KILL', 'CAP_NET_RAW'], effective: ['CAP_KILL'], permitted: ['CAP_KILL'] };
      }),
    ),
  );
  t.equal(st.CapBnd, capHex(CAP.CHOWN, CAP.KILL, CAP.NET_RAW), 'only the bounding set’s names stay bounded');
  t.equal(st.CapInh, '0000000000000000');
});

t.test('capabilities: an empty set gives 0 everywhere', async (t) => {
  const r = await sh('cat /proc/self/status; chown 1:1 /dev/shm 2>&1; echo rc=$?', (s) => (s.process!.capabilities = {}));
  const st = status(out(r));
  for (const f of ['CapEff', 'CapPrm', 'CapBnd', 'CapInh', 'CapAmb']) t.equal(st[f], '0000000000000000', f);
  t.match(out(r), /Operation not permitted\nrc=1\n$/, 'root without CAP_CHOWN cannot chown');
});

t.test('capabilities: a non-root user keeps ambient capabilities across exec', async (t) => {
  const names = ['CAP_NET_BIND_SERVICE', 'CAP_KILL'];
  const st = status(
    out(
      await sh('cat /proc/self/status', (s) => {
        s.process!.user = { uid: 1000, gid: 1000 };
        allCaps(s, names);
      }),
    ),
  );
  const want = capHex(CAP.NET_BIND_SERVICE, CAP.KILL);
  t.equal(st.Uid, '1000\t1000\t1000\t1000');
  for (const f of ['CapAmb', 'CapInh', 'CapPrm', 'CapEff', 'CapBnd']) t.equal(st[f], want, f);
});

t.test('capabilities: a non-root user without ambient capabilities ends with none', async (t) => {
  const st = status(out(await sh('cat /proc/self/status', (s) => (s.process!.user = { uid: 1000, gid: 1000 }))));
  t.equal(st.CapEff, '0000000000000000');
  t.equal(st.CapPrm, '0000000000000000');
  t.equal(st.CapBnd, '0000000020000420', 'the bounding set is still the spec’s');
});

t.test('no_new_privs: set by default (runc’s spec), unset when false', async (t) => {
  t.equal(status(out(await sh('cat /proc/self/status'))).NoNewPrivs, '1');
  t.equal(status(out(await sh('cat /proc/self/status', (s) => (s.process!.noNewPrivileges = false)))).NoNewPrivs, '0');
});

t.test('rlimits: NOFILE and NPROC', async (t) => {
  const r = await sh('ulimit -n; ulimit -Hn; ulimit -u; ulimit -Hu', (s) => {
    s.process!.rlimits = [
      { type: 'RLIMIT_NOFILE', soft: 123, hard: 456 },
      { type: 'RLIMIT_NPROC', soft: 77, hard: 88 },
    ];
  });
  t.equal(out(r), '123\n456\n77\n88\n');
  const d = await sh('ulimit -n; ulimit -Hn');
  t.equal(out(d), '1024\n1024\n', "runc's default spec: NOFILE 1024/1024");
});

t.test('rlimits: a soft limit is enforced', async (t) => {
  const r = await sh('exec 5</dev/null && echo five-ok; exec 9</dev/null && echo nine-ok', (s) => {
    s.process!.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 8, hard: 8 }];
  });
  t.match(out(r), /^five-ok\n/);
  t.notMatch(out(r), /nine-ok/, 'fd 9 is beyond RLIMIT_NOFILE 8');
});

t.test('oomScoreAdj is applied to the container, not to Node', async (t) => {
  const mine = readFileSync('/proc/self/oom_score_adj', 'utf8');
  const r = await sh('cat /proc/self/oom_score_adj', (s) => (s.process!.oomScoreAdj = 500));
  t.equal(out(r), '500\n');
  t.equal(readFileSync('/proc/self/oom_score_adj', 'utf8'), mine);
});

// --- filesystem view -------------------------------------------------------

t.test('masked paths: files read empty, directories are empty', async (t) => {
  t.ok(readFileSync('/proc/timer_list').length > 0, 'the host has a /proc/timer_list with content');
  t.ok(readdirSync('/sys/firmware').length > 0, 'the host has entries in /sys/firmware');
  const checks = ['wc -c < /proc/timer_list', 'ls -A /sys/firmware | wc -l', 'ls -A /proc/acpi | wc -l', 'touch /proc/acpi/x 2>&1 || true'];
  if (existsSync('/proc/kcore')) checks.push('wc -c < /proc/kcore');
  const r = await sh(checks.join('; '));
  const lines = out(r).trim().split('\n');
  t.equal(lines[0], '0', '/proc/timer_list is empty');
  t.equal(lines[1], '0', '/sys/firmware is empty');
  t.equal(lines[2], '0', '/proc/acpi is empty');
  t.match(lines[3], /Read-only file system/, 'a masked directory is read-only');
  if (existsSync('/proc/kcore')) t.equal(lines[4], '0', '/proc/kcore is empty');
});

t.test('masked paths: a path of the spec’s own in the rootfs', async (t) => {
  const r = await sh('wc -c < /etc/passwd; cat /etc/hosts', (s) => s.linux!.maskedPaths!.push('/etc/passwd'));
  t.equal(out(r), '0\n127.0.0.1 localhost\n', 'only the masked file is hidden');
  t.ok(readFileSync(join(rootfs, 'etc', 'passwd')).length > 0, 'the rootfs file itself is intact');
});

t.test('read-only paths refuse writes', async (t) => {
  const writes = ['echo 1 > /proc/sys/kernel/shmmax', 'echo 1 > /proc/sys/vm/drop_caches', 'touch /home/x'];
  if (existsSync('/proc/sysrq-trigger')) writes.push('echo h > /proc/sysrq-trigger');
  const r = await sh(`${writes.join('; ')}; cat /proc/sys/kernel/ostype`, (s) => s.linux!.readonlyPaths!.push('/home'));
  const errs = r.stderr.toString().trim().split('\n');
  t.equal(errs.length, writes.length, r.stderr.toString());
  for (const e of errs) t.match(e, /Read-only file system/);
  t.equal(out(r), 'Linux\n', 'a read-only path can still be read');
  t.notOk(existsSync(join(rootfs, 'home', 'x')));
  t.doesNotThrow(() => accessSync(join(rootfs, 'home'), constants.W_OK), "the host's directory is still writable");
  // Each of runc's default read-only paths that exists is a read-only mount.
  const m = await sh('cat /proc/self/mountinfo');
  const present = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'].filter((p) => existsSync(p));
  for (const p of present) {
    const entry = out(m).split('\n').find((l) => l.split(' ')[4] === p);
    t.match(entry?.split(' ')[5], /^ro\b/, `${p} is mounted read-only`);
  }
});

t.test('a read-only rootfs refuses writes; /dev/shm stays writable', async (t) => {
  const name = `berth-ro-${process.pid}`;
  t.teardown(() => rmSync(join(rootfs, name), { force: true }));
  const r = await sh(`touch /${name}; echo rc=$?; echo shm > /dev/shm/f && cat /dev/shm/f`, (s) => (s.root!.readonly = true));
  t.equal(r.exitCode, 0);
  t.equal(out(r), 'rc=1\nshm\n');
  t.match(r.stderr.toString(), /Read-only file system/);
  t.notOk(existsSync(join(rootfs, name)), 'nothing was written to the rootfs');
  t.doesNotThrow(() => accessSync(rootfs, constants.W_OK), 'the rootfs is still writable from the host');
});

t.test('no fd of the Node process reaches the container', async (t) => {
  const files = ['/etc/hostname', '/proc/self/status', '/dev/null'].map((p) => openSync(p, 'r'));
  const server = createServer();
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  t.teardown(() => {
    files.forEach((fd) => closeSync(fd));
    server.close();
  });
  // ls in a child: the shell's own fds are the container process's, as exec'd.
  const r = await sh('ls /proc/1/fd; true');
  t.equal(out(r), '0\n1\n2\n', 'only stdin, stdout and stderr');
});

t.test('extraFds appear as 3, 4, ... and nothing else does', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-fds-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'a'), 'contents of a\n');
  const a = openSync(join(dir, 'a'), 'r');
  const b = openSync(join(dir, 'b'), 'w');
  const stray = openSync('/etc/hostname', 'r');
  t.teardown(() => [a, b, stray].forEach((fd) => closeSync(fd)));
  const r = await run({ spec: spec(['sh', '-c', 'ls /proc/1/fd; cat <&3; echo "written via 4" >&4']), extraFds: [a, b] });
  t.equal(r.exitCode, 0, r.stderr.toString());
  t.equal(out(r), '0\n1\n2\n3\n4\ncontents of a\n');
  t.equal(readFileSync(join(dir, 'b'), 'utf8'), 'written via 4\n');
  t.doesNotThrow(() => fstatSync(a), 'the fd is still open in Node');
});

t.test('a mount made inside the container is invisible outside', async (t) => {
  const before = mountinfo();
  const { c, line } = await started('mount -t tmpfs none /mnt && touch /mnt/marker && grep -c " /mnt " /proc/self/mountinfo; read x', (s) =>
    addCap(s, 'CAP_SYS_ADMIN'),
  );
  t.equal(await line(), '1', 'the container sees its tmpfs at /mnt');
  t.same(mountinfo(), before, 'no new mount in the host’s mount namespace');
  t.notOk(existsSync(join(rootfs, 'mnt', 'marker')), 'the file went to the container’s tmpfs, not the rootfs');
  c.stdin!.end('\n');
  t.same(await c.wait(), { exitCode: 0 });
  await c.delete();
  t.same(mountinfo(), before);
});

t.test('sysctls are set in the container’s namespaces only', async (t) => {
  const hostForward = readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8');
  const hostShmmax = readFileSync('/proc/sys/kernel/shmmax', 'utf8');
  const r = await sh('cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shmmax', (s) => {
    s.linux!.sysctl = { 'net.ipv4.ip_forward': hostForward.trim() === '1' ? '0' : '1', 'kernel.shmmax': '123456789' };
  });
  t.equal(r.exitCode, 0, r.stderr.toString());
  t.equal(out(r), `${hostForward.trim() === '1' ? '0' : '1'}\n123456789\n`);
  t.equal(readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8'), hostForward, 'host ip_forward unchanged');
  t.equal(readFileSync('/proc/sys/kernel/shmmax', 'utf8'), hostShmmax, 'host shmmax unchanged');
});
