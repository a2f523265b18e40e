// Importing images: formats, faithful unpacking, whiteouts, safety against
// crafted archives, digests, truncation, limits and the shared layer store.
import t from 'tap';
import { createHash } from 'node:crypto';
import {
  existsSync, linkSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync,
  symlinkSync, utimesSync, writeFileSync, chownSync, chmodSync, truncateSync,
} from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { images, BerthError } from '../../src/index.js';
import { native } from '../../src/native.js';
import { Store } from '../../src/images/store.js';
import { storeLayer } from '../../src/images/layers.js';
import { Budget } from '../../src/images/unpack.js';
import { dirTar, dockerSave, layerTar, ociLayout, tarDir, type Entry } from '../fixtures/images/build.js';
import { rootfs as busybox } from '../helpers.js';

const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

type T = Pick<typeof t, 'teardown' | 'same'>;

function scratch(t: T): { dir: string; data: string } {
  const dir = mkdtempSync('/tmp/bth-img-');
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return { dir, data: join(dir, 'data') };
}

const ls = (d: string) => (existsSync(d) ? readdirSync(d) : []);
/** What this process has open below dir (the store): unpacking must leave nothing open there. */
const openBelow = (dir: string) =>
  readdirSync('/proc/self/fd').flatMap((fd) => {
    try {
      const target = readlinkSync(`/proc/self/fd/${fd}`);
      return target.startsWith(`${dir}/`) ? [target] : [];
    } catch {
      return []; // the fd readdir itself used
    }
  });
/** The store holds no layer, no temp dir and no image record. */
function storeEmpty(t: T, data: string) {
  t.same(ls(join(data, 'layers', 'sha256')), [], 'no layer in the store');
  t.same(ls(join(data, 'tmp')), [], 'no temporary directory left');
  t.same(ls(join(data, 'images')), [], 'no image record');
}

async function rootfsTar(dir: string, entries: Entry[]): Promise<string> {
  const f = join(dir, `layer-${Math.random().toString(36).slice(2)}.tar`);
  writeFileSync(f, await layerTar(entries));
  return f;
}

t.test('faithful: files, dirs, links, devices, fifos, modes, owners, mtimes, xattrs', async (t) => {
  const { dir, data } = scratch(t);
  const src = join(dir, 'src');
  mkdirSync(join(src, 'bin'), { recursive: true });
  writeFileSync(join(src, 'bin', 'tool'), '#!/bin/sh\necho tool\n');
  chownSync(join(src, 'bin', 'tool'), 1000, 1001);
  chmodSync(join(src, 'bin', 'tool'), 0o4755);
  linkSync(join(src, 'bin', 'tool'), join(src, 'bin', 'tool-again'));
  symlinkSync('tool', join(src, 'bin', 'alias'));
  symlinkSync('/etc/passwd', join(src, 'abs-link'));
  writeFileSync(join(src, 'ping'), 'ping');
  // security.capability v2: cap_net_raw (13) permitted + effective.
  const cap = Buffer.from([0x01, 0, 0, 0x02, 0x00, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  native().lsetxattr(join(src, 'ping'), 'security.capability', cap);
  native().lsetxattr(join(src, 'ping'), 'user.note', Buffer.from([0xff, 0x00, 0x80]));
  mkdirSync(join(src, 'dev'));
  native().mknod(join(src, 'dev', 'null'), 0o020666, 1, 3);
  native().mknod(join(src, 'dev', 'loop9'), 0o060660, 7, 9);
  native().mknod(join(src, 'fifo'), 0o010640, 0, 0);
  chmodSync(join(src, 'dev', 'null'), 0o666); // mknod went through the umask
  mkdirSync(join(src, 'sticky'), 0o1777);
  chmodSync(join(src, 'sticky'), 0o1777);
  utimesSync(join(src, 'ping'), 1_600_000_000, 1_600_000_000);
  utimesSync(join(src, 'sticky'), 1_500_000_000, 1_500_000_000);
  const file = join(dir, 'rootfs.tar.gz');
  writeFileSync(file, gzipSync(dirTar(src)));

  const rec = await images.import(file, { name: 'faithful', dataDir: data });
  t.equal(rec.format, 'rootfs');
  t.equal(rec.layers.length, 1);
  const L = new Store({ dataDir: data }).layer(rec.layers[0]!.diffId);
  const tool = statSync(join(L, 'bin', 'tool'));
  t.equal(tool.mode & 0o7777, 0o4755, 'setuid mode kept');
  t.equal(tool.uid, 1000);
  t.equal(tool.gid, 1001);
  t.equal(tool.nlink, 2, 'hardlink is one inode');
  t.equal(statSync(join(L, 'bin', 'tool-again')).ino, tool.ino);
  t.equal(readlinkSync(join(L, 'bin', 'alias')), 'tool');
  t.equal(readlinkSync(join(L, 'abs-link')), '/etc/passwd', 'an absolute symlink is stored as it is, not followed');
  t.same(native().lgetxattr(join(L, 'ping'), 'security.capability'), cap, 'security.capability survives');
  t.same(native().lgetxattr(join(L, 'ping'), 'user.note'), Buffer.from([0xff, 0x00, 0x80]), 'binary xattr survives');
  t.equal(statSync(join(L, 'ping')).mtimeMs, 1_600_000_000_000, 'mtime');
  const nul = lstatSync(join(L, 'dev', 'null'));
  t.ok(nul.isCharacterDevice());
  t.equal(nul.rdev, (1 << 8) | 3, 'char device 1:3');
  t.equal(nul.mode & 0o777, 0o666);
  const loop = lstatSync(join(L, 'dev', 'loop9'));
  t.ok(loop.isBlockDevice());
  t.equal(loop.rdev, (7 << 8) | 9);
  t.ok(lstatSync(join(L, 'fifo')).isFIFO());
  t.equal(lstatSync(join(L, 'fifo')).mode & 0o777, 0o640);
  const sticky = statSync(join(L, 'sticky'));
  t.equal(sticky.mode & 0o7777, 0o1777);
  t.equal(sticky.mtimeMs, 1_500_000_000_000, 'directory mtime set after its children');
});

t.test('whiteouts and opaque directories become overlayfs ones', async (t) => {
  const { dir, data } = scratch(t);
  const f = await rootfsTar(dir, [
    { name: 'etc/', type: 'directory' },
    { name: 'etc/.wh.hosts' },
    { name: 'data/', type: 'directory' },
    { name: 'data/.wh..wh..opq' },
    { name: 'data/new', content: 'new' },
  ]);
  const rec = await images.import(f, { name: 'wh', dataDir: data });
  const L = new Store({ dataDir: data }).layer(rec.layers[0]!.diffId);
  const wh = lstatSync(join(L, 'etc', 'hosts'));
  t.ok(wh.isCharacterDevice() && wh.rdev === 0, 'etc/hosts is a 0:0 whiteout');
  t.notOk(existsSync(join(L, 'etc', '.wh.hosts')), 'no .wh. file itself');
  t.same(native().lgetxattr(join(L, 'data'), 'trusted.overlay.opaque'), Buffer.from('y'));
  t.notOk(existsSync(join(L, 'data', '.wh..wh..opq')));
});

t.test('crafted archives are refused and nothing is written outside', async (t) => {
  const { dir, data } = scratch(t);
  const outside = join(dir, 'outside');
  mkdirSync(outside);
  writeFileSync(join(outside, 'file'), 'host file');
  const cases: [string, Entry[], RegExp][] = [
    ['../ entry', [{ name: 'ok', content: 'x' }, { name: '../../../outside/evil', content: 'x' }], /leads outside the layer/],
    ['./a/../../ entry', [{ name: './a/../../evil', content: 'x' }], /leads outside the layer/],
    ['absolute symlink, then a file through it', [
      { name: 'link', type: 'symlink', linkname: outside },
      { name: 'link/evil', content: 'x' },
    ], /goes through the symlink 'link'/],
    ['relative symlink out, then a dir through it', [
      { name: 'up', type: 'symlink', linkname: '../../../../..' },
      { name: 'up/tmp/evil/', type: 'directory' },
    ], /goes through the symlink 'up'/],
    ['hardlink outside', [{ name: 'h', type: 'link', linkname: '../../outside/file' }], /leads outside the layer/],
    ['hardlink to an absolute host path', [{ name: 'h', type: 'link', linkname: join(outside, 'file') }], /not in the layer/],
    ['hardlink through a symlink', [
      { name: 'l', type: 'symlink', linkname: outside },
      { name: 'h', type: 'link', linkname: 'l/file' },
    ], /non-directory 'l'/],
    ['whiteout through a symlink', [
      { name: 'l', type: 'symlink', linkname: outside },
      { name: 'l/.wh.file' },
    ], /goes through the symlink/],
    ['symlink replaced dir, then a file into it', [
      { name: 'd/', type: 'directory' },
      { name: 'd', type: 'symlink', linkname: outside },
      { name: 'd/evil', content: 'x' },
    ], /goes through the symlink 'd'/],
  ];
  for (const [what, entries, msg] of cases) {
    const f = await rootfsTar(dir, entries);
    const err = await images.import(f, { name: 'evil', dataDir: data }).then(() => undefined, (e: unknown) => e);
    t.ok(err instanceof BerthError, `${what}: refused`);
    t.match((err as Error).message, msg, what);
    rmSync(f);
  }
  // Not refused, but not followed either: a later entry replaces a symlink, it does not write through it.
  for (const type of ['file', 'fifo', 'link', 'symlink'] as const) {
    const f = await rootfsTar(dir, [
      { name: 'real', content: 'real' },
      { name: 'x', type: 'symlink', linkname: join(outside, 'file') },
      { name: 'x', type, content: type === 'file' ? 'replaced' : undefined, linkname: type === 'link' ? 'real' : type === 'symlink' ? 'real' : undefined },
    ]);
    const rec = await images.import(f, { name: `replace-${type}`, dataDir: data });
    const L = new Store({ dataDir: data }).layer(rec.layers[0]!.diffId);
    t.equal(lstatSync(join(L, 'x')).isSymbolicLink(), type === 'symlink', `${type} replaces the symlink`);
    images.remove(`replace-${type}`, { dataDir: data });
    rmSync(f);
  }
  t.same(readdirSync(outside).sort(), ['file'], 'nothing new outside');
  t.equal(readFileSync(join(outside, 'file'), 'utf8'), 'host file', 'the host file is untouched');
  t.same(readdirSync(dir).sort(), ['data', 'outside'], 'nothing beside the store');
  t.notOk(existsSync('/tmp/evil'));
  storeEmpty(t, data);
});

t.test('a later entry takes the name of an earlier one, whatever both are, within one chunk', async (t) => {
  const { dir, data } = scratch(t);
  // All in one small tar, so all in one batch of syscalls: each clash is found when the batch runs.
  const f = await rootfsTar(dir, [
    { name: 'a', content: 'first' },
    { name: 'a', content: 'second' },
    { name: 'b', content: 'file' },
    { name: 'b/', type: 'directory', mode: 0o750 },
    { name: 'b/in', content: 'in the directory' },
    { name: 'c/', type: 'directory' },
    { name: 'c/deep/', type: 'directory' },
    { name: 'c/deep/x', content: 'x' },
    { name: 'c', type: 'symlink', linkname: 'a' },
    { name: 'd', type: 'fifo' },
    { name: 'd/', type: 'directory', mode: 0o700 },
    { name: 'e/', type: 'directory', mode: 0o755, uid: 5 },
    { name: 'e/', type: 'directory', mode: 0o711, uid: 6 },
    { name: 'e/kept', content: 'kept' },
    { name: 'h', type: 'link', linkname: 'a' },
    { name: 'h', content: 'own' },
  ]);
  const rec = await images.import(f, { name: 'clash', dataDir: data });
  t.same(openBelow(data), [], 'every fd the batches opened is closed');
  const L = new Store({ dataDir: data }).layer(rec.layers[0]!.diffId);
  t.equal(readFileSync(join(L, 'a'), 'utf8'), 'second', 'file over file');
  t.ok(statSync(join(L, 'b')).isDirectory(), 'a directory over a file');
  t.equal(statSync(join(L, 'b')).mode & 0o7777, 0o750);
  t.equal(readFileSync(join(L, 'b', 'in'), 'utf8'), 'in the directory');
  t.ok(lstatSync(join(L, 'c')).isSymbolicLink(), 'a symlink over a directory tree');
  t.equal(readlinkSync(join(L, 'c')), 'a');
  t.ok(statSync(join(L, 'd')).isDirectory(), 'a directory over a fifo');
  const e = statSync(join(L, 'e'));
  t.same([e.mode & 0o7777, e.uid], [0o711, 6], 'a directory twice: the second entry gives its mode and owner');
  t.equal(readFileSync(join(L, 'h'), 'utf8'), 'own', 'a file over a hardlink');
  t.equal(statSync(join(L, 'a')).nlink, 1, 'the link it replaced is gone');
  images.remove('clash', { dataDir: data });
  storeEmpty(t, data);
});

t.test('a directory replaced by a symlink out of the layer: its mtime is not set through the link', async (t) => {
  const { dir, data } = scratch(t);
  const outside = join(dir, 'outside');
  mkdirSync(join(outside, 'sub'), { recursive: true });
  utimesSync(join(outside, 'sub'), 1000, 1000);
  utimesSync(outside, 1000, 1000);
  const f = await rootfsTar(dir, [
    { name: 'd/', type: 'directory', mtime: new Date(2_000_000_000_000) },
    { name: 'd/sub/', type: 'directory', mtime: new Date(2_000_000_000_000) },
    { name: 'd', type: 'symlink', linkname: outside },
  ]);
  const rec = await images.import(f, { name: 'times', dataDir: data });
  const L = new Store({ dataDir: data }).layer(rec.layers[0]!.diffId);
  t.equal(readlinkSync(join(L, 'd')), outside);
  t.same([statSync(outside).mtimeMs, statSync(join(outside, 'sub')).mtimeMs], [1_000_000, 1_000_000], 'the host directories keep their times');
  images.remove('times', { dataDir: data });
  storeEmpty(t, data);
});

t.test('a syscall that fails while unpacking names itself and the entry, and leaves nothing', async (t) => {
  const { dir, data } = scratch(t);
  const f = await rootfsTar(dir, [
    { name: 'etc/', type: 'directory' },
    { name: 'etc/ok', content: 'fine' },
    { name: 'etc/bad', content: 'x', pax: { 'SCHILY.xattr.bogus.attr': 'v' } }, // no such xattr namespace: EOPNOTSUPP
    { name: 'etc/after', content: 'never written' },
  ]);
  const err = (await images.import(f, { name: 'bad', dataDir: data }).then(() => undefined, (e: unknown) => e)) as NodeJS.ErrnoException;
  t.same(openBelow(data), [], 'no fd left open by the failed batch');
  t.equal(err?.code, 'EOPNOTSUPP');
  t.equal(err.syscall, 'fsetxattr');
  t.equal((err as { step?: string }).step, 'import image', 'and the step');
  t.match(err.path, /\/etc\/bad$/, 'the path of the entry');
  t.notOk('index' in err || 'fd' in err, 'no batch internals on the error');
  storeEmpty(t, data);
});

t.test('a wrong digest, a truncated archive and an interrupted stream leave nothing', async (t) => {
  const { dir, data } = scratch(t);
  const layer = await layerTar([{ name: 'a', content: 'a'.repeat(5000) }, { name: 'b', content: 'b' }]);

  const oci = join(dir, 'oci');
  const { layerDigests } = ociLayout(oci, { layers: [layer], name: 'x' });
  const blob = join(oci, 'blobs', 'sha256', layerDigests[0]!.slice(7));
  const tampered = Buffer.from(layer);
  tampered[600] ^= 1; // inside file a's data: still a valid tar
  writeFileSync(blob, tampered);
  await t.rejects(images.import(oci, { dataDir: data }), { code: 'EINTEGRITY', message: /digest mismatch/ });
  storeEmpty(t, data);

  for (const [what, cut] of [['inside an entry', 1000], ['at an entry boundary', 512 + 5120 + 512 + 512]] as const) {
    const f = join(dir, 'cut.tar');
    writeFileSync(f, layer.subarray(0, cut));
    await t.rejects(images.import(f, { name: 'cut', dataDir: data }), { code: 'EBADMSG', message: /truncated/ }, what);
    const gz = gzipSync(layer);
    writeFileSync(f, gz.subarray(0, gz.length - 8 - (cut === 1000 ? 20 : 0)));
    await t.rejects(images.import(f, { name: 'cut', dataDir: data }), { code: 'EBADMSG' }, `gzip cut ${what}`);
    storeEmpty(t, data);
  }

  // An I/O error half-way through the blob.
  const store = new Store({ dataDir: data });
  async function* failing() {
    yield layer.subarray(0, 2048);
    throw Object.assign(new Error('EIO: i/o error, read'), { code: 'EIO' });
  }
  await t.rejects(storeLayer(store, { stream: Readable.from(failing()), name: 'x', budget: new Budget({ maxBytes: 1e9, maxEntries: 1e6 }) }), { code: 'EIO' });
  // A dead import's leftovers are swept by the next import.
  mkdirSync(join(data, 'tmp', 'layer-999999999-abc'), { recursive: true });
  const ok = await rootfsTar(dir, [{ name: 'ok', content: 'ok' }]);
  await images.import(ok, { name: 'ok', dataDir: data });
  t.same(ls(join(data, 'tmp')), [], 'stale temporary layer swept');
});

t.test('limits on size and entries name the limit', async (t) => {
  const { dir, data } = scratch(t);
  const f = await rootfsTar(dir, Array.from({ length: 20 }, (_, i) => ({ name: `f${i}`, content: 'x'.repeat(1000) })));
  await t.rejects(images.import(f, { name: 'n', dataDir: data, maxEntries: 10 }), { code: 'EFBIG', message: /more than 10 entries \(limit maxEntries\)/ });
  await t.rejects(images.import(f, { name: 'n', dataDir: data, maxBytes: 8192 }), { code: 'EFBIG', message: /limit maxBytes/ });
  storeEmpty(t, data);
});

t.test('formats: OCI dir, OCI tar, gzip OCI tar, gzip layers, docker save', async (t) => {
  const { dir, data } = scratch(t);
  const base = await layerTar([{ name: 'etc/', type: 'directory' }, { name: 'etc/os', content: 'base' }]);
  const top = await layerTar([{ name: 'etc/os', content: 'top' }]);
  const config = { Cmd: ['cat', '/etc/os'], Env: ['A=1'], WorkingDir: '/etc', User: '0:0', ExposedPorts: { '80/tcp': {} }, Volumes: { '/data': {} } };
  const want = [sha(base), sha(top)];

  ociLayout(join(dir, 'oci'), { layers: [base, top], config, name: 'oci:dir' });
  const a = await images.import(join(dir, 'oci'), { dataDir: data });
  t.equal(a.name, 'oci:dir', 'name from the ref.name annotation');
  t.same(a.layers.map((l) => l.diffId), want);
  t.same(a.config.Cmd, ['cat', '/etc/os']);
  t.same(a.config.Volumes, { '/data': {} });

  ociLayout(join(dir, 'ocigz'), { layers: [base, top], gzip: true, config });
  tarDir(join(dir, 'ocigz'), join(dir, 'oci.tar'));
  const b = await images.import(join(dir, 'oci.tar'), { dataDir: data, name: 'oci:tar' });
  t.same(b.layers.map((l) => l.diffId), want, 'gzip layers stored under their diff ids');
  t.not(b.layers[0]!.digest, want[0], 'the compressed digest is kept too');

  tarDir(join(dir, 'ocigz'), join(dir, 'oci.tar.gz'), true);
  const c = await images.import(join(dir, 'oci.tar.gz'), { dataDir: data, name: 'oci:targz' });
  t.equal(c.format, 'oci');
  t.same(c.layers.map((l) => l.diffId), want);

  await dockerSave(join(dir, 'docker.tar'), { layers: [base, top], config, repoTag: 'dock:latest' });
  const d = await images.import(join(dir, 'docker.tar'), { dataDir: data });
  t.equal(d.name, 'dock:latest');
  t.equal(d.format, 'docker');
  t.same(d.layers.map((l) => l.diffId), want);

  t.same(images.list({ dataDir: data }).map((r) => r.name), ['dock:latest', 'oci:dir', 'oci:tar', 'oci:targz']);
  t.same(ls(join(data, 'layers', 'sha256')).filter((n) => !n.endsWith('.json')).length, 2, 'four images, two layers stored once');
  t.same(ls(join(data, 'tmp')), []);
});

t.test('docker save: a repeated layer is a symlink to the first layer.tar', async (t) => {
  const { dir, data } = scratch(t);
  const l = await layerTar([{ name: 'same', content: 'same' }]);
  const cfg = Buffer.from(JSON.stringify({ os: 'linux', config: { Cmd: ['x'] }, rootfs: { type: 'layers', diff_ids: [sha(l), sha(l)] } }));
  const cfgName = `${sha(cfg).slice(7)}.json`;
  const [a, b] = ['a'.repeat(64), 'b'.repeat(64)];
  writeFileSync(join(dir, 'save.tar'), await layerTar([
    { name: `${a}/`, type: 'directory' },
    { name: `${a}/layer.tar`, content: l },
    { name: `${b}/`, type: 'directory' },
    { name: `${b}/layer.tar`, type: 'symlink', linkname: `../${a}/layer.tar` },
    { name: cfgName, content: cfg },
    { name: 'manifest.json', content: JSON.stringify([{ Config: cfgName, RepoTags: ['dup:1'], Layers: [`${a}/layer.tar`, `${b}/layer.tar`] }]) },
  ]));
  const rec = await images.import(join(dir, 'save.tar'), { dataDir: data });
  t.same(rec.layers.map((x) => x.diffId), [sha(l), sha(l)]);
  t.equal(ls(join(data, 'layers', 'sha256')).filter((n) => !n.endsWith('.json')).length, 1);
});

t.test('two images sharing a layer store it once; remove collects what nobody uses', async (t) => {
  const { dir, data } = scratch(t);
  const base = await layerTar([{ name: 'base', content: 'base' }]);
  const extra = await layerTar([{ name: 'extra', content: 'extra' }]);
  ociLayout(join(dir, 'a'), { layers: [base], name: 'a' });
  ociLayout(join(dir, 'b'), { layers: [base, extra], name: 'b' });
  await images.import(join(dir, 'a'), { dataDir: data });
  const progress: images.ImportProgress[] = [];
  await images.import(join(dir, 'b'), { dataDir: data, onProgress: (p) => progress.push(p) });
  t.ok(progress.some((p) => p.layer === 0 && p.skipped), 'the shared layer is not read again');
  t.ok(progress.some((p) => p.layer === 1 && p.done && p.bytes === extra.length), 'progress counts the new layer');
  const layers = () => ls(join(data, 'layers', 'sha256')).filter((n) => !n.endsWith('.json')).sort();
  t.equal(layers().length, 2);
  t.same(images.inspect('a', { dataDir: data }).layers[0]!.diffId, sha(base));
  t.same(images.remove('a', { dataDir: data }).layersRemoved, [], 'b still uses the base');
  t.equal(layers().length, 2);
  t.same(images.remove('b', { dataDir: data }).layersRemoved.sort(), [sha(base), sha(extra)].sort());
  t.same(layers(), []);
  t.throws(() => images.inspect('a', { dataDir: data }), { code: 'ENOENT' });
});

t.test('a repeated import of an image reads no layer', async (t) => {
  const { dir, data } = scratch(t);
  const big = await layerTar([{ name: 'big', content: Buffer.alloc(4 << 20, 7) }]);
  ociLayout(join(dir, 'oci'), { layers: [big], name: 'big' });
  tarDir(join(dir, 'oci'), join(dir, 'oci.tar'));
  await images.import(join(dir, 'oci.tar'), { dataDir: data });
  const progress: images.ImportProgress[] = [];
  const t0 = performance.now();
  await images.import(join(dir, 'oci.tar'), { dataDir: data, onProgress: (p) => progress.push(p) });
  t.ok(performance.now() - t0 < 1000, 'under a second');
  t.ok(progress.every((p) => p.skipped), 'skipped');
  void truncateSync;
});

t.test('a large layer unpacks on a worker thread exactly as it does inline', async (t) => {
  const { dir, data } = scratch(t);
  const { execFileSync } = await import('node:child_process');
  const { FileRegion } = await import('../../src/images/read.js');
  const file = join(dir, 'layer.tar');
  // The busybox rootfs without its end-of-archive blocks, then entries of our own.
  const base = dirTar(busybox);
  let end = base.length;
  while (end >= 512 && base.subarray(end - 512, end).every((b) => b === 0)) end -= 512;
  const layer = Buffer.concat([
    base.subarray(0, end),
    await layerTar([
      { name: 'big', content: Buffer.alloc(3 << 20, 1) },
      { name: 'x/', type: 'directory', mode: 0o2775, gid: 5 },
      { name: 'x/in-sgid', content: 'g' },
      { name: 'x/link', type: 'symlink', linkname: '../big' },
      { name: 'etc/.wh.hostname' },
    ]),
  ]);
  writeFileSync(file, layer);
  const budget = () => new Budget({ maxBytes: 1e9, maxEntries: 1e6 });
  const inline = await storeLayer(new Store({ dataDir: join(data, 'a') }), { stream: new FileRegion(file), name: 'l', budget: budget(), workerMinBytes: Infinity });
  let bytes = 0;
  const onWorker = await storeLayer(new Store({ dataDir: join(data, 'b') }), { stream: new FileRegion(file), name: 'l', budget: budget(), workerMinBytes: 0, onBytes: (n) => (bytes += n) });
  t.same({ ...onWorker, dir: '' }, { ...inline, dir: '' }, 'same digest, diff id and size');
  t.equal(onWorker.diffId, sha(layer));
  t.equal(bytes, layer.length, 'progress counts every byte');
  const tree = (d: string) => execFileSync('sh', ['-c', `cd ${d} && find . -printf '%p %y %m %U:%G %T@ %s %l\\n' | sort && find . -type f -exec sha256sum {} + | sort`], { encoding: 'utf8' })
    .replace(/^(\S+ c 0 0:0) \S+/gm, '$1'); // a whiteout's mtime is when it was made
  t.equal(tree(onWorker.dir), tree(inline.dir), 'the same tree: types, modes, owners, mtimes, sizes, contents');
  // The worker is kept for the next layer, with its ring: the second layer on it comes out the same.
  const again = await storeLayer(new Store({ dataDir: join(data, 'c') }), { stream: new FileRegion(file), name: 'l', budget: budget(), workerMinBytes: 0 });
  t.equal(again.diffId, onWorker.diffId);
  t.equal(tree(again.dir), tree(inline.dir), 'a kept worker unpacks the next layer the same');

  const cut = join(dir, 'cut.tar');
  writeFileSync(cut, layer.subarray(0, 5 << 20));
  await t.rejects(storeLayer(new Store({ dataDir: data }), { stream: new FileRegion(cut), name: 'cut', budget: budget(), workerMinBytes: 0 }), { code: 'EBADMSG', message: /truncated archive 'cut'/ });
  await t.rejects(storeLayer(new Store({ dataDir: data }), { stream: new FileRegion(file), name: 'l', budget: new Budget({ maxBytes: 1e9, maxEntries: 50 }), workerMinBytes: 0 }), {
    code: 'EFBIG', message: /more than 50 entries \(limit maxEntries\)/,
  });
  const bad = Buffer.from(layer);
  bad[100] ^= 0x10; // the first header's mode: its checksum no longer matches
  writeFileSync(cut, bad);
  await t.rejects(storeLayer(new Store({ dataDir: data }), { stream: new FileRegion(cut), name: 'bad', budget: budget(), workerMinBytes: 0 }), { code: 'EBADMSG', message: /corrupt tar header at byte 0/ });
  t.same(ls(join(data, 'tmp')), [], 'no half layer left by a failed worker');
  t.same(openBelow(data), [], 'nor an fd (a file cut short was open across chunks)');
  const after = await storeLayer(new Store({ dataDir: join(data, 'd') }), { stream: new FileRegion(file), name: 'l', budget: budget(), workerMinBytes: 0 });
  t.equal(tree(after.dir), tree(inline.dir), 'after failed jobs (their workers ended), a new worker unpacks it the same');
});
