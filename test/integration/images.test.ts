// Containers on images: the overlay rootfs as the layers say, its upper
// directory going with the container, read-only and ephemeral roots, long
// layer lists, the image config as the spec, and volumes.
import t from 'tap';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { create, images, run, type Spec } from '../../src/index.js';
import { rootfs as busybox, out } from '../helpers.js';
import { dirTar, layerTar, ociLayout } from '../fixtures/images/build.js';

const dir = mkdtempSync('/tmp/bth-imgrun-');
const data = join(dir, 'data');
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const opts = { dataDir: data };
let n = 0;
const nextId = () => `bth-img-${process.pid}-${++n}`;

/** Runs `sh -c script` in a new container on `image`; its rootfs is removed afterwards. */
async function shOn(image: string, script: string, o: { readonly?: boolean; edit?: (s: Spec) => void } = {}) {
  const root = images.rootfs(image, { ...opts, id: nextId(), readonly: o.readonly });
  const s = images.spec(images.inspect(image, opts), { ...opts, rootfs: root.path, entrypoint: ['sh', '-c', script] });
  s.process!.user = { uid: 0, gid: 0 }; // the test image's config says "daemon"
  o.edit?.(s);
  return run({ spec: s, overlay: root.overlay, input: '' });
}

const base = dirTar(busybox);

t.before(async () => {
  const app = await layerTar([
    { name: 'etc/motd', content: 'hello' },
    { name: 'data/', type: 'directory' },
    { name: 'data/old1', content: '1' },
    { name: 'data/old2', content: '2' },
    { name: 'app/', type: 'directory' },
    { name: 'app/file', content: 'shared inode' },
    { name: 'app/file2', type: 'link', linkname: 'app/file' },
    { name: 'app/file3', type: 'link', linkname: 'app/file' },
    { name: 'special/', type: 'directory' },
    { name: 'special/null', type: 'character-device', devmajor: 1, devminor: 3, mode: 0o666 },
    { name: 'special/fifo', type: 'fifo', mode: 0o600 },
    { name: 'special/sda', type: 'block-device', devmajor: 8, devminor: 0, mode: 0o660 },
  ]);
  const delta = await layerTar([
    { name: 'etc/.wh.motd' },
    { name: 'data/.wh..wh..opq' },
    { name: 'data/new', content: 'new' },
    { name: 'app/.wh.file' },
  ]);
  ociLayout(join(dir, 'oci'), {
    layers: [base, app, delta],
    name: 'test:layers',
    config: { Entrypoint: ['/bin/sh', '-c'], Cmd: ['echo "$A $(id -u):$(id -g) $(pwd)"'], Env: ['A=from-image', 'PATH=/bin'], WorkingDir: '/tmp', User: 'daemon', ExposedPorts: { '8080/tcp': {} }, Volumes: { '/data': {}, '/cache/': {} } },
  });
  await images.import(join(dir, 'oci'), opts);
});

t.test('whiteouts, opaque dirs, hardlinks and special files through the overlay', async (t) => {
  const r = await shOn('test:layers', [
    'test -e /etc/motd && echo motd-visible',
    'ls /data | tr "\\n" " "; echo',
    'test -e /app/file && echo file-visible',
    'cat /app/file2; echo',
    'stat -c "%h %i" /app/file2 /app/file3 | cut -d" " -f1 | tr "\\n" " "; echo',
    '[ "$(stat -c %i /app/file2)" = "$(stat -c %i /app/file3)" ] && echo same-inode',
    'stat -c "%F %t:%T %a" /special/null',
    'stat -c "%F %t:%T" /special/sda',
    '[ -p /special/fifo ] && echo fifo',
    'test -x /bin/busybox && echo busybox',
  ].join('; '));
  t.equal(r.exitCode, 0, r.stderr.toString());
  t.same(out(r).split('\n'), [
    'new ',
    'shared inode',
    '3 3 ',
    'same-inode',
    'character special file 1:3 666',
    'block special file 8:0',
    'fifo',
    'busybox',
    '',
  ]);
});

t.test('a container writes to its own upper dir, removed with it; the image is refused removal meanwhile', async (t) => {
  const id = nextId();
  const root = images.rootfs('test:layers', { ...opts, id });
  const s = images.spec(images.inspect('test:layers', opts), { ...opts, rootfs: root.path, entrypoint: ['sh', '-c', 'echo mine > /etc/mine; rm /bin/ls; cat /etc/mine'] });
  s.process!.user = { uid: 0, gid: 0 };
  const c = await create({ spec: s, overlay: root.overlay, stdio: 'ignore' });
  t.throws(() => images.remove('test:layers', opts), { code: 'EBUSY', message: new RegExp(`in use by container ${id}`) });
  await c.start();
  t.same(await c.wait(), { exitCode: 0 });
  const upper = join(data, 'containers', id, 'upper');
  t.equal(readFileSync(join(upper, 'etc', 'mine'), 'utf8'), 'mine\n', 'the change is in the upper dir');
  const wh = lstatSync(join(upper, 'bin', 'ls'));
  t.ok(wh.isCharacterDevice() && wh.rdev === 0, 'a removal is a whiteout in the upper dir');
  const layer = images.inspect('test:layers', opts).layers[0]!.diffId.slice(7);
  t.ok(lstatSync(join(data, 'layers', 'sha256', layer, 'bin', 'ls')).isSymbolicLink(), 'the layer is untouched');
  await c.delete();
  t.notOk(existsSync(join(data, 'containers', id)), 'upper, work and mount point are gone');
  const again = await shOn('test:layers', 'test -e /etc/mine || echo clean; test -e /bin/ls && echo ls');
  t.equal(out(again), 'clean\nls\n', 'the next container starts from the image');
});

t.test('a failed create removes its rootfs directory', async (t) => {
  const id = nextId();
  const root = images.rootfs('test:layers', { ...opts, id });
  const s = images.spec(images.inspect('test:layers', opts), { ...opts, rootfs: root.path, entrypoint: ['/no/such/program'] });
  s.mounts!.push({ destination: '/x', type: 'nosuchfs', source: 'none' });
  await t.rejects(create({ spec: s, overlay: root.overlay, stdio: 'ignore' }));
  t.notOk(existsSync(join(data, 'containers', id)));
});

t.test('a read-only rootfs cannot be written', async (t) => {
  const ro = await shOn('test:layers', 'touch /etc/x 2>&1; echo; mkdir /newdir 2>&1', { readonly: true });
  t.match(out(ro), /Read-only file system/);
  t.equal(ro.exitCode, 1);
  const spec = await shOn('test:layers', 'touch /etc/x', { edit: (s) => (s.root!.readonly = true) });
  t.equal(spec.exitCode, 1, 'root.readonly on the overlay too');
  t.match(spec.stderr.toString(), /Read-only file system/);
});

t.test('an ephemeral overlay over a plain directory throws its changes away', async (t) => {
  const host = join(dir, 'plain');
  mkdirSync(join(host, 'etc'), { recursive: true });
  writeFileSync(join(host, 'etc', 'keep'), 'keep');
  for (const d of ['bin', 'proc', 'dev', 'sys', 'tmp']) mkdirSync(join(host, d), { recursive: true });
  // busybox from the test rootfs, bound read-only at /bin.
  const id = nextId();
  const root = images.ephemeral(host, { ...opts, id });
  const s: Spec = images.spec({ name: 'plain', format: 'rootfs', id: '', created: '', layers: [], config: {} }, {
    ...opts, rootfs: root.path, entrypoint: ['/bin/sh', '-c', 'echo changed > /etc/keep; rm -f /etc/keep2; echo new > /etc/new; cat /etc/keep /etc/new'],
  });
  s.mounts!.push({ destination: '/bin', type: 'bind', source: join(busybox, 'bin'), options: ['rbind', 'ro'] });
  const r = await run({ spec: s, overlay: root.overlay });
  t.equal(out(r), 'changed\nnew\n', r.stderr.toString());
  t.equal(readFileSync(join(host, 'etc', 'keep'), 'utf8'), 'keep', 'the directory is unchanged');
  t.same(readdirSync(join(host, 'etc')), ['keep']);
  t.notOk(existsSync(join(data, 'containers', id)));
});

t.test('a lower-layer list past the mount(2) option limit (fsconfig lowerdir+)', async (t) => {
  const layers = [base];
  for (let i = 0; i < 70; i++) layers.push(await layerTar([{ name: `many/${i}`, content: String(i) }]));
  ociLayout(join(dir, 'many'), { layers, name: 'many' });
  const rec = await images.import(join(dir, 'many'), opts);
  const lowerdir = rec.layers.map((l) => join(data, 'layers', 'sha256', l.diffId.slice(7))).join(':');
  t.ok(lowerdir.length > 4096, `lowerdir= would be ${lowerdir.length} bytes`);
  const r = await shOn('many', 'ls /many | wc -l; cat /many/0 /many/69');
  t.equal(out(r), '70\n069', r.stderr.toString());
  images.remove('many', opts);
});

t.test('a layer listed twice is mounted once, at its upper place', async (t) => {
  const x = await layerTar([{ name: 'bin/busybox', content: 'replaced' }, { name: 'x', content: 'x' }]);
  ociLayout(join(dir, 'twice'), { layers: [base, x, base], name: 'twice' });
  await images.import(join(dir, 'twice'), opts);
  const r = await shOn('twice', 'cat /x; busybox true && echo busybox-restored');
  t.equal(out(r), 'xbusybox-restored\n', r.stderr.toString());
  images.remove('twice', opts);
});

t.test('the image config becomes the spec: entrypoint, cmd, env, cwd, user, ports', async (t) => {
  const rec = images.inspect('test:layers', opts);
  const root = images.rootfs('test:layers', { ...opts, id: nextId() });
  const s = images.spec(rec, { ...opts, rootfs: root.path });
  t.same(s.process!.args, ['/bin/sh', '-c', 'echo "$A $(id -u):$(id -g) $(pwd)"']);
  t.same(s.process!.user, { uid: 1, gid: 1 }, 'user "daemon" from the image\'s /etc/passwd');
  t.equal(s.annotations!['org.opencontainers.image.exposedPorts'], '8080/tcp');
  t.ok(s.process!.env!.includes('PATH=/bin') && s.process!.env!.includes('TERM=xterm'), 'env merged over the defaults');
  const r = await run({ spec: s, overlay: root.overlay });
  t.equal(out(r), 'from-image 1:1 /tmp\n', r.stderr.toString());
});

t.test('volumes: tmpfs with size and mode, host paths ro/rw with propagation, named volumes', async (t) => {
  const tmpfs = await shOn('test:layers', 'stat -c %a /scratch; dd if=/dev/zero of=/scratch/f bs=1024 count=2048 2>/dev/null || echo full; grep " /scratch " /proc/self/mountinfo', {
    edit: (s) => s.mounts!.push(images.tmpfsVolume('/scratch', { size: '1m', mode: 0o700 })),
  });
  const [mode, full, line] = out(tmpfs).split('\n');
  t.equal(mode, '700');
  t.equal(full, 'full', 'size limit holds');
  t.match(line, /size=1024k/);

  const host = join(dir, 'host');
  mkdirSync(host);
  for (const propagation of ['private', 'shared', 'slave'] as const) {
    const rw = await shOn('test:layers', `echo ${propagation} > /vol/${propagation}; grep " /vol " /proc/self/mountinfo`, {
      edit: (s) => s.mounts!.push(images.bindVolume(host, '/vol', { propagation })),
    });
    t.equal(rw.exitCode, 0, rw.stderr.toString());
    t.equal(readFileSync(join(host, propagation), 'utf8'), `${propagation}\n`, `rw ${propagation}: the write reaches the host`);
    const info = out(rw);
    if (propagation === 'private') t.notMatch(info, /shared:|master:/, 'private');
    if (propagation === 'shared') t.match(info, /shared:\d+/, 'shared');
  }
  const ro = await shOn('test:layers', 'echo x > /vol/ro', { edit: (s) => s.mounts!.push(images.bindVolume(host, '/vol', { readonly: true })) });
  t.equal(ro.exitCode, 1);
  t.match(ro.stderr.toString(), /Read-only file system/);
  t.notOk(existsSync(join(host, 'ro')));

  // A named volume: shared by two containers at once (a pod), kept after both.
  const vol = images.namedVolume('pod-data', '/shared', opts);
  const writer = await shOn('test:layers', 'echo from-a > /shared/msg', { edit: (s) => s.mounts!.push(vol) });
  t.equal(writer.exitCode, 0, writer.stderr.toString());
  const reader = await shOn('test:layers', 'cat /shared/msg', { edit: (s) => s.mounts!.push(images.namedVolume('pod-data', '/shared', { ...opts, readonly: true })) });
  t.equal(out(reader), 'from-a\n');
  t.same(images.listVolumes(opts), ['pod-data'], 'the volume outlives its containers');
  images.removeVolume('pod-data', opts);
  t.same(images.listVolumes(opts), []);
});

t.test("the image's Volumes: an anonymous volume per container, filled from the image, removed with it", async (t) => {
  const script = (extra: string) => [
    'ls /data | tr "\\n" " "; echo',
    'grep -c " /data \\| /cache " /proc/self/mountinfo',
    'stat -c "%a %u" /cache',
    extra,
  ].join('; ');
  const id = nextId();
  const root = images.rootfs('test:layers', { ...opts, id });
  const s = images.spec(images.inspect('test:layers', opts), { ...opts, rootfs: root, entrypoint: ['sh', '-c', script('echo written > /data/mine; echo x > /etc/x')] });
  s.process!.user = { uid: 0, gid: 0 };
  t.same(s.mounts!.slice(-2).map((m) => m.destination), ['/cache', '/data'], 'the spec mounts both');
  const c = await create({ spec: s, overlay: root.overlay, stdio: 'pipe' });
  let text = '';
  c.stdout!.on('data', (b: Buffer) => (text += b));
  await c.start();
  t.same(await c.wait(), { exitCode: 0 });
  t.equal(text, 'new \n2\n755 0\n', 'the image\'s /data as the layers say (opaque dir, whiteouts); /cache made empty');
  const vols = join(data, 'containers', id, 'volumes');
  t.same(readdirSync(vols).sort(), ['0', '1']);
  t.equal(readFileSync(join(vols, '1', 'mine'), 'utf8'), 'written\n', 'a write to /data lands in the volume');
  t.notOk(existsSync(join(data, 'containers', id, 'upper', 'data', 'mine')), 'not in the upper dir');
  t.ok(existsSync(join(data, 'containers', id, 'upper', 'etc', 'x')), 'while the rootfs write is');
  await c.delete();
  t.notOk(existsSync(join(data, 'containers', id)), 'the anonymous volumes go with the container');
  const fresh = await runOn(script(''));
  t.equal(fresh, 'new \n2\n755 0\n', 'the next container starts from the image again');
});

/** A container on test:layers with its volumes (optionally named); resolves with stdout. */
async function runOn(script: string, volumes?: Record<string, string>): Promise<string> {
  const root = images.rootfs('test:layers', { ...opts, id: nextId(), volumes });
  const s = images.spec(images.inspect('test:layers', opts), { ...opts, rootfs: root, entrypoint: ['sh', '-c', script] });
  s.process!.user = { uid: 0, gid: 0 };
  const r = await run({ spec: s, overlay: root.overlay, input: '' });
  if (r.exitCode !== 0) throw new Error(r.stderr.toString());
  return out(r);
}

t.test("a read-only root still gets the image's volumes, writable, mount points included", async (t) => {
  const id = nextId();
  const root = images.rootfs('test:layers', { ...opts, id, readonly: true });
  const s = images.spec(images.inspect('test:layers', opts), { ...opts, rootfs: root, entrypoint: ['sh', '-c', 'echo c > /cache/c && cat /cache/c; ls /data; touch /etc/x 2>&1'] });
  s.process!.user = { uid: 0, gid: 0 };
  const r = await run({ spec: s, overlay: root.overlay, input: '' });
  t.equal(r.exitCode, 1);
  t.match(out(r), /^c\nnew\ntouch: \/etc\/x: Read-only file system\n$/, '/cache (not in the image) and /data are writable volumes; the root is not');
  t.notOk(existsSync(join(data, 'containers', id)), 'removed with the container');
});

t.test("a named volume for an image's volume: filled once, kept, shared", async (t) => {
  t.equal(await runOn('ls /data; echo kept > /data/kept', { '/data': 'appdata' }), 'new\n');
  t.equal(await runOn('ls /data | tr "\\n" " "', { '/data/': 'appdata' }), 'kept new ', 'the second container sees the first one\'s write, not a refill');
  t.same(images.listVolumes(opts), ['appdata'], 'it outlives its containers');
  t.equal(readFileSync(join(data, 'volumes', 'appdata', 'kept'), 'utf8'), 'kept\n');
  images.removeVolume('appdata', opts);
  t.throws(() => images.rootfs('test:layers', { ...opts, id: nextId(), volumes: { '/nope': 'x' } }), {
    code: 'EINVAL', message: /volumes\["\/nope"\]: the image has no volume at this path/,
  });
  t.throws(() => images.rootfs('test:layers', { ...opts, id: nextId(), volumes: { '/data': '../evil' } }), { code: 'EINVAL', message: /volumes\["\/data"\]: invalid volume name/ });
  t.same(readdirSync(join(data, 'containers')), [], 'a refused rootfs leaves no directory');
  t.same(images.listVolumes(opts), []);
});

t.test('bad image Volumes are refused, naming the field', async (t) => {
  const file = await layerTar([{ name: 'app/', type: 'directory' }, { name: 'app/file2', content: 'f' }]);
  const cases = [
    ['relative', 'EINVAL', /config\.Volumes\["relative"\]: a volume path must be absolute/],
    ['/app/file2', 'ENOTDIR', /config\.Volumes\["\/app\/file2"\]: "\/app\/file2" is not a directory in the image/],
  ] as const;
  for (const [i, [vol, code, message]] of cases.entries()) {
    ociLayout(join(dir, `badvol${i}`), { layers: [base, file], name: `badvol${i}`, config: { Cmd: ['true'], Volumes: { [vol]: {} } } });
    await images.import(join(dir, `badvol${i}`), opts);
    t.throws(() => images.rootfs(`badvol${i}`, { ...opts, id: nextId() }), { code, message });
    images.remove(`badvol${i}`, opts);
  }
  t.same(readdirSync(join(data, 'containers')), [], 'nothing half-made');
});

t.test('no container rootfs is left', async (t) => {
  t.same(existsSync(join(data, 'containers')) ? readdirSync(join(data, 'containers')) : [], []);
  images.remove('test:layers', opts);
  t.same(readdirSync(join(data, 'layers', 'sha256')), [], 'removing the last image removes its layers');
});
