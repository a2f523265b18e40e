// Namespaces and mount propagation, on the real kernel.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { Container, type Spec } from '../../src/index.js';
import { out, rootfs, sh, spec } from '../helpers.js';

const mountinfo = () => readFileSync('/proc/self/mountinfo', 'utf8');
const mount = (...args: string[]) => execFileSync('mount', args);

t.test('pid 1 inside, and only the container processes in /proc', async (t) => {
  const r = await sh('echo $$; ls /proc | grep -E "^[0-9]+$"');
  t.equal(r.exitCode, 0);
  const [self, ...pids] = out(r).trim().split('\n');
  t.equal(self, '1', 'the shell is pid 1');
  t.ok(pids.length >= 1 && pids.length <= 3, `only the container's processes are visible: ${pids.join(' ')}`);
  t.ok(pids.every((p) => Number(p) < 10), 'pids are the namespace view');
});

t.test('hostname is isolated', async (t) => {
  const before = hostname();
  const r = await sh('hostname; hostname other; hostname', (s) => {
    s.hostname = 'box1';
    s.process!.capabilities!.bounding!.push('CAP_SYS_ADMIN');
    s.process!.capabilities!.effective!.push('CAP_SYS_ADMIN');
    s.process!.capabilities!.permitted!.push('CAP_SYS_ADMIN');
  });
  t.equal(out(r), 'box1\nother\n');
  t.equal(hostname(), before, 'the host keeps its name');
});

t.test('a mount inside is invisible outside', async (t) => {
  const before = mountinfo();
  const r = await sh('mount -t tmpfs none /mnt && grep -c " /mnt " /proc/self/mountinfo', withSysAdmin);
  t.equal(out(r), '1\n');
  t.equal(mountinfo(), before, 'host mount table unchanged');
});

t.test('user namespace: root inside is an unprivileged uid outside', async (t) => {
  const dir = mkdtempSync('/tmp/bth-userns-');
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  chownSync(dir, 100000, 100000);
  const r = await sh('id -u; cat /proc/self/uid_map; touch /mnt/made-inside', (s) => {
    s.linux!.namespaces!.push({ type: 'user' });
    s.linux!.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    s.linux!.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    s.mounts!.push({ destination: '/mnt', type: 'bind', source: dir, options: ['rbind', 'rw'] });
  });
  t.equal(r.exitCode, 0, r.stderr.toString());
  const [uid, map] = out(r).split('\n');
  t.equal(uid, '0', 'root inside');
  t.match(map, /^\s*0\s+100000\s+65536$/);
  const st = statSync(join(dir, 'made-inside'));
  t.equal(st.uid, 100000, 'the file is owned by the mapped uid on the host');
  t.equal(st.gid, 100000);
});

function withSysAdmin(s: Spec) {
  for (const set of ['bounding', 'effective', 'permitted'] as const) s.process!.capabilities![set]!.push('CAP_SYS_ADMIN');
}

t.test('bind propagation: private, shared and slave, both directions', async (t) => {
  const base = mkdtempSync('/tmp/bth-prop-');
  const modes = ['private', 'shared', 'slave'] as const;
  const src = (m: string) => join(base, m);
  const made: string[] = [];
  t.teardown(() => {
    for (const p of made.reverse()) execFileSync('umount', ['-l', p], { stdio: 'ignore' });
    rmSync(base, { recursive: true, force: true });
    // berth created the mount points in the rootfs.
    for (const m of modes) rmSync(join(rootfs, 'mnt', m), { recursive: true, force: true });
  });
  for (const m of modes) {
    // Each source is a shared mount of its own, as propagation needs.
    mkdirSync(join(src(m), 'b'), { recursive: true });
    mkdirSync(join(src(m), 'a'));
    mount('--bind', src(m), src(m));
    made.push(src(m));
    mount('--make-shared', src(m));
  }
  const script = [
    'read go',
    ...modes.map((m) => `grep -q " /mnt/${m}/a " /proc/self/mountinfo && echo ${m}:a:yes || echo ${m}:a:no`),
    ...modes.map((m) => `mount -t tmpfs inside /mnt/${m}/b`),
    'echo mounted',
    'read done',
  ].join('\n');
  const s = spec(['sh', '-c', script], (s) => {
    withSysAdmin(s);
    // As with runc, a shared bind propagates back to the host only when the
    // container's root is shared too.
    s.linux!.rootfsPropagation = 'rshared';
    for (const m of modes) s.mounts!.push({ destination: `/mnt/${m}`, type: 'bind', source: src(m), options: ['bind', m] });
  });
  const c = await Container.create({ spec: s });
  let text = '';
  c.stdout!.on('data', (d) => (text += d));
  await c.start();
  // Host → container: a tmpfs mounted under each source.
  for (const m of modes) {
    mount('-t', 'tmpfs', 'host', join(src(m), 'a'));
    made.push(join(src(m), 'a'));
  }
  c.stdin!.write('go\n');
  while (!text.includes('mounted')) await once(c.stdout!, 'data');
  t.match(text, /private:a:no/, 'private: the host mount does not reach the container');
  t.match(text, /shared:a:yes/, 'shared: the host mount reaches the container');
  t.match(text, /slave:a:yes/, 'slave: the host mount reaches the container');
  // Container → host.
  const info = mountinfo();
  const onHost = (m: string) => info.split('\n').some((l) => l.split(' ')[4] === join(src(m), 'b'));
  t.notOk(onHost('private'), 'private: the container mount stays inside');
  t.ok(onHost('shared'), 'shared: the container mount reaches the host');
  t.notOk(onHost('slave'), 'slave: the container mount stays inside');
  if (onHost('shared')) made.push(join(src('shared'), 'b'));
  c.stdin!.end('\n');
  t.equal((await c.wait()).exitCode, 0);
  await c.delete();
});

t.test('joining the namespaces of another container by path', async (t) => {
  const a = await Container.create({
    spec: spec(['sh', '-c', 'echo up; read x'], (s) => {
      s.hostname = 'pod-a';
    }),
  });
  await a.start();
  await once(a.stdout!, 'data');
  const ns = (type: string) => `/proc/${a.pid}/ns/${type}`;
  const r = await sh('hostname; ps -o pid,args | grep -c "read x" ; ls /proc/1/ns >/dev/null && echo ok', (s) => {
    s.linux!.namespaces = s.linux!.namespaces!.map((n) =>
      n.type === 'uts' ? { type: 'uts', path: ns('uts') } : n.type === 'pid' ? { type: 'pid', path: ns('pid') } : n.type === 'network' ? { type: 'network', path: ns('net') } : n,
    );
    delete s.hostname;
  });
  t.equal(r.exitCode, 0, r.stderr.toString());
  const [name, seen] = out(r).split('\n');
  t.equal(name, 'pod-a', 'the uts namespace is shared');
  t.ok(Number(seen) >= 1, "the pid namespace is shared: the other container's process is visible");
  a.stdin!.end('\n');
  t.equal((await a.wait()).exitCode, 0);
  await a.delete();
});
