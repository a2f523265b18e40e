// Pure logic of images, overlay and volumes: no root, no kernel.
import t from 'tap';
import { defaultSpec } from '../../src/spec/defaults.js';
import { buildPlan } from '../../src/runtime/plan.js';
import { encodePlan } from '../../src/runtime/protocol.js';
import { MOUNT_DATA_MAX, hasLowerdirPlus, overlayOps, overlayPlan } from '../../src/mounts/overlay.js';
import { bindVolume, tmpfsVolume } from '../../src/mounts/volumes.js';
import { entryParts } from '../../src/images/paths.js';
import { isLayoutMember } from '../../src/images/tarindex.js';
import { imageSpec, mergeEnv, resolveUser } from '../../src/images/config.js';
import type { ImageRecord } from '../../src/images/types.js';
import { imageVolumes } from '../../src/images/volumes.js';

t.test('entry names: normalised, and ".." refused', async (t) => {
  t.same(entryParts('./a//b/./c/'), ['a', 'b', 'c']);
  t.same(entryParts('/abs/path'), ['abs', 'path'], 'a leading / is inside the layer');
  t.same(entryParts('./'), []);
  for (const bad of ['../x', 'a/../../x', 'a/..', '..'])
    t.throws(() => entryParts(bad), { code: 'EPERM', message: /leads outside the layer/ }, bad);
  t.throws(() => entryParts('a\0b'), { code: 'EINVAL' });
});

t.test('users and groups from the image', async (t) => {
  const files = { passwd: 'root:x:0:0::/root:/bin/sh\napp:x:1000:1001::/home/app:/bin/sh\n', group: 'root:x:0:\nstaff:x:50:\n' };
  t.same(resolveUser(undefined, files), { uid: 0, gid: 0 });
  t.same(resolveUser('app', files), { uid: 1000, gid: 1001 });
  t.same(resolveUser('app:staff', files), { uid: 1000, gid: 50 });
  t.same(resolveUser('1000', files), { uid: 1000, gid: 1001 }, 'a known uid takes its passwd gid');
  t.same(resolveUser('42:7', {}), { uid: 42, gid: 7 });
  t.throws(() => resolveUser('nobody', files), { code: 'ENOENT', message: /not in the image's \/etc\/passwd/ });
  t.throws(() => resolveUser('app:wheel', files), { code: 'ENOENT' });
});

t.test('env lists merge by name', async (t) => {
  t.same(mergeEnv(['PATH=/bin', 'TERM=xterm'], ['PATH=/usr/bin', 'A=1'], ['A=2']), ['PATH=/usr/bin', 'TERM=xterm', 'A=2']);
});

const rec = (config: ImageRecord['config']): ImageRecord => ({ name: 'x', format: 'oci', id: 'sha256:0', created: '', layers: [], config });

t.test('image config → spec', async (t) => {
  const s = imageSpec(rec({ Entrypoint: ['/entry'], Cmd: ['a', 'b'], Env: ['X=1'], WorkingDir: '/w', User: '5:6', StopSignal: 'SIGINT', Labels: { l: 'v' } }), { rootfs: '/r' });
  t.same(s.process!.args, ['/entry', 'a', 'b']);
  t.same(s.process!.user, { uid: 5, gid: 6 });
  t.equal(s.process!.cwd, '/w');
  t.equal(s.process!.terminal, false);
  t.same(s.root, { path: '/r', readonly: false });
  t.ok(s.process!.env!.includes('X=1'));
  t.equal(s.annotations!['org.opencontainers.image.stopSignal'], 'SIGINT');
  t.equal(s.annotations!.l, 'v');
  t.same(imageSpec(rec({ Entrypoint: ['/entry'], Cmd: ['a'] }), { rootfs: '/r', args: ['z'] }).process!.args, ['/entry', 'z'], 'args replace Cmd');
  t.same(imageSpec(rec({ Entrypoint: ['/entry'], Cmd: ['a'] }), { rootfs: '/r', entrypoint: ['/other'] }).process!.args, ['/other'], 'a new entrypoint drops Cmd');
  t.throws(() => imageSpec(rec({}), { rootfs: '/r' }), { code: 'EINVAL', message: /no Entrypoint or Cmd/ });
});

t.test('overlay ops: lowerdir+ on 6.8+, mount data on older kernels, a bind for one read-only layer', async (t) => {
  t.ok(hasLowerdirPlus('6.8.0'));
  t.ok(hasLowerdirPlus('7.0.1'));
  t.notOk(hasLowerdirPlus('6.7.12'));
  t.notOk(hasLowerdirPlus('5.15.0-91-generic'));
  const o = { lower: ['/l/top', '/l/base'], upper: '/c/upper', work: '/c/work' };
  t.same(overlayOps(o, '/c/rootfs', '6.18.0'), [
    { op: 'overlay', step: 'mount the overlay rootfs', target: '/c/rootfs', upper: '/c/upper', work: '/c/work', readonly: false, lower: ['/l/top', '/l/base'] },
  ]);
  const [m] = overlayOps({ lower: ['/a:b', '/c,d'], upper: '/u', work: '/w' }, '/t', '6.1.0');
  t.match(m, { op: 'mount', fstype: 'overlay', data: 'lowerdir=/a\\:b:/c\\,d,upperdir=/u,workdir=/w', where: 'host' });
  const many = { lower: Array.from({ length: 60 }, (_, i) => `/var/lib/berth/layers/sha256/${String(i).padStart(64, '0')}`) };
  t.throws(() => overlayOps(many, '/t', '6.1.0'), { code: 'E2BIG', message: new RegExp(`${MOUNT_DATA_MAX}-byte limit`) });
  t.match(overlayOps(many, '/t', '6.8.0')[0], { op: 'overlay', readonly: true });
  t.match(overlayOps({ lower: ['/only'] }, '/t', '6.18.0')[0], { op: 'bind', source: '/only', target: '/t', attrSet: 1 });
  t.throws(() => overlayOps({ lower: [] }, '/t'), { code: 'EINVAL' });
  t.throws(() => overlayOps({ lower: ['/a'], upper: '/u' }, '/t'), { code: 'EINVAL', message: /both upper and work/ });
});

t.test('the plan mounts the overlay at root.path before making it the root', async (t) => {
  const spec = defaultSpec();
  spec.process!.terminal = false;
  spec.root = { path: '/c/rootfs', readonly: false };
  const plan = buildPlan({
    spec, bundle: '/', host: { cgroupMounts: [], apparmor: false, selinux: false }, preserveFds: 0,
    overlay: { lower: ['/l/2', '/l/1'], upper: '/c/upper', work: '/c/work' },
  });
  const names = plan.ops.map((o) => o.op);
  const ov = names.indexOf('overlay');
  t.ok(ov > names.indexOf('fork'), 'in the container process');
  t.ok(ov < names.indexOf('parentprivate') && ov < names.indexOf('rootfs'), 'before the rootfs is bound');
  const wire = encodePlan(plan.ops).toString('utf8');
  t.ok(wire.includes('overlay\0mount the overlay rootfs\x007\0/c/rootfs\0/c/upper\0/c/work\x000\x002\0/l/2\0/l/1\0'), 'wire form: target upper work ro n lower...');
  const plain = buildPlan({ spec, bundle: '/', host: { cgroupMounts: [], apparmor: false, selinux: false }, preserveFds: 0 });
  t.notOk(plain.ops.some((o) => o.op === 'overlay'), 'no overlay unless asked');
});

t.test('in a user namespace the overlay is made before it, with the mapping, and attached in the container', async (t) => {
  const spec = defaultSpec();
  spec.process!.terminal = false;
  spec.root = { path: '/c/rootfs', readonly: false };
  spec.linux!.namespaces!.push({ type: 'user' });
  spec.linux!.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
  spec.linux!.gidMappings = [{ containerID: 0, hostID: 200000, size: 65536 }];
  const plan = buildPlan({
    spec, bundle: '/', host: { cgroupMounts: [], apparmor: false, selinux: false }, preserveFds: 0,
    overlay: { lower: ['/l/2', '/l/1'], upper: '/c/upper', work: '/c/work' },
  });
  const names = plan.ops.map((o) => o.op);
  t.ok(names.indexOf('overlayprep') < names.indexOf('unshare'), 'made while the setup process is root on the host');
  t.ok(names.indexOf('overlayattach') > names.indexOf('fork') && names.indexOf('overlayattach') < names.indexOf('rootfs'), 'attached in the container process');
  t.notOk(names.includes('overlay'));
  t.match(plan.ops.find((o) => o.op === 'overlayprep'), {
    lower: ['/l/2', '/l/1'], upper: '/c/upper', uidMap: '0 100000 65536\n', gidMap: '0 200000 65536\n', ownerUid: 100000, ownerGid: 200000, usernsPath: '',
  });
  const joined = overlayPlan({ lower: ['/l'] }, '/t', spec, [{ type: 'user', path: '/proc/9/ns/user' }], '6.18.0');
  t.match(joined.first[0], { op: 'overlayprep', usernsPath: '/proc/9/ns/user', uidMap: '', readonly: true });
  t.throws(() => overlayPlan({ lower: ['/l'] }, '/t', spec, [{ type: 'user' }], '6.8.0'), { code: 'ENOTSUP', message: /kernel 6\.13\+/ });
  t.same(overlayPlan({ lower: ['/l'] }, '/t', spec, [{ type: 'mount' }], '6.8.0').first, [], 'no user namespace: as before');
});

t.test('volume helpers produce spec mounts', async (t) => {
  t.same(tmpfsVolume('/tmp'), { destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'mode=1777'] });
  t.same(tmpfsVolume('/s', { size: '64m', mode: 0o700, readonly: true, options: ['noexec'] }).options, ['nosuid', 'nodev', 'mode=700', 'size=64m', 'ro', 'noexec']);
  t.same(bindVolume('/h', '/c'), { destination: '/c', type: 'bind', source: '/h', options: ['rbind', 'rw', 'rprivate'] });
  t.same(bindVolume('/h', '/c', { readonly: true, propagation: 'slave' }).options, ['rbind', 'ro', 'rslave', 'rro']);
  t.same(bindVolume('/h', '/c', { recursive: false, propagation: 'shared' }).options, ['bind', 'rw', 'shared']);
  t.throws(() => bindVolume('rel', '/c'), /absolute/);
});

t.test('what an image archive may hold, and what shows a rootfs tarball', async (t) => {
  const hex = 'a'.repeat(64);
  for (const n of ['', 'oci-layout', 'index.json', 'manifest.json', 'repositories', 'blobs', 'blobs/sha256', `blobs/sha256/${hex}`, hex, `${hex}/layer.tar`, `${hex}/VERSION`, `${hex}/json`, `${hex}.json`])
    t.ok(isLayoutMember(n), n || '(root)');
  for (const n of ['bin', 'etc/passwd', 'blobs/sha256/x/y', `${hex}/other`, 'index.json.bak']) t.notOk(isLayoutMember(n), n);
});

t.test("an image's Volumes: normalised, parents first, bad paths named", async (t) => {
  const rec = (Volumes: Record<string, object>) => ({ name: 'x', format: 'oci', id: '', created: '', layers: [], config: { Volumes } }) as ImageRecord;
  t.same(imageVolumes(rec({ '/var/lib/db/': {}, '/data': {}, '/var//lib': {}, '/data/': {} })), ['/data', '/var/lib', '/var/lib/db']);
  t.same(imageVolumes(rec({})), []);
  t.throws(() => imageVolumes(rec({ 'data': {} })), { code: 'EINVAL', message: /config\.Volumes\["data"\]: a volume path must be absolute/ });
  t.throws(() => imageVolumes(rec({ '/a/../etc': {} })), { code: 'EINVAL', message: /config\.Volumes\["\/a\/..\/etc"\]: .*"\.\."/ });
  t.throws(() => imageVolumes(rec({ '/': {} })), { code: 'EINVAL', message: /cannot be the root/ });
});

t.test('the tar reader: the same entries whatever the chunk boundaries; pax, long names, v7 dirs, ends', async (t) => {
  const { layerTar } = await import('../fixtures/images/build.js');
  const { TarParser } = await import('../../src/images/untar.js');
  const long = `${'d'.repeat(120)}/${'f'.repeat(150)}`;
  const tar = await layerTar([
    { name: 'dir/', type: 'directory', mode: 0o2755, uid: 7, gid: 8 },
    { name: 'dir/file', content: 'x'.repeat(1000), mode: 0o4755 },
    { name: long, content: 'long' },
    { name: 'ln', type: 'symlink', linkname: 'l'.repeat(200) },
    { name: 'hard', type: 'link', linkname: 'dir/file' },
    { name: 'null', type: 'character-device', devmajor: 1, devminor: 3 },
  ]);
  // A pax record header in front of dir/file (the third block on): a uid past the octal field, a fractional mtime, an xattr.
  const rec = (k: string, v: string) => {
    let len = k.length + v.length + 3;
    len += String(len + String(len).length).length;
    return `${len} ${k}=${v}\n`;
  };
  const paxData = Buffer.from(rec('uid', String(2 ** 21 + 5)) + rec('mtime', '1700000000.5') + rec('SCHILY.xattr.user.x', 'v'));
  const paxHdr = Buffer.alloc(512);
  paxHdr.write('PaxHeader/file', 0);
  paxHdr.write('0000644\0', 100);
  paxHdr.write(paxData.length.toString(8).padStart(11, '0') + '\0', 124);
  paxHdr.write('x', 156);
  paxHdr.write('ustar\x0000', 257, 'latin1');
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : paxHdr[i]!;
  paxHdr.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'latin1');
  const padded = Buffer.concat([paxData, Buffer.alloc(512 - paxData.length)]);
  const plain = tar;
  const withPax = Buffer.concat([plain.subarray(0, 512), paxHdr, padded, plain.subarray(512)]);
  const xattrs: string[] = [];
  const parse = (step: number, buf = withPax) => {
    const out: string[] = [];
    let data = 0;
    const p = new TarParser({
      begin: (e) => (e.xattrs && xattrs.push(`${e.name} ${[...e.xattrs].map(([k, v]) => `${k}=${v}`)}`), out.push(`${e.type} ${e.name} ${e.mode.toString(8)} ${e.uid}:${e.gid} ${e.mtime} ${e.size} ${e.linkname} ${e.devmajor}:${e.devminor}`)),
      data: (_b, _start, length) => (data += length),
      end: () => out.push(`end ${data}`),
    });
    for (let i = 0; i < buf.length; i += step) p.push(buf.subarray(i, i + step));
    p.finish();
    return out;
  };
  const whole = parse(withPax.length);
  t.same(xattrs, ['dir/file user.x=v'], 'xattrs as raw bytes, on that entry only');
  t.equal(whole.length, 12);
  t.match(whole[0], /^directory dir\/ 2755 7:8 1700000000 0 /);
  t.match(whole[2], /^file dir\/file 4755 2097157:0 1700000000\.5 1000 /, 'a uid over 2^21 and a fractional mtime, through pax');
  t.match(whole[8], /^link hard 644 0:0 1700000000 0 dir\/file /, 'the pax record held for one entry');
  t.match(whole[4], new RegExp(`^file ${long} 644`), 'a long name');
  t.match(whole[6], new RegExp(`^symlink ln 644 0:0 1700000000 0 ${'l'.repeat(200)} `), 'a long link target');
  t.match(whole[10], /^character-device null .* 1:3$/);
  for (const step of [1, 7, 511, 512, 513, 4096]) t.same(parse(step), whole, `chunks of ${step}`);
  t.throws(() => parse(withPax.length, withPax.subarray(0, 1536)), { code: 'EBADMSG', message: /truncated archive/ }, 'cut inside');
  const v7 = Buffer.from(plain.subarray(0, 512));
  v7[156] = 0; // old tar: a directory is a "file" whose name ends in "/"
  sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : v7[i]!;
  v7.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'latin1');
  t.match(parse(512, Buffer.concat([v7, Buffer.alloc(1024)]))[0], /^directory dir\//);
  t.throws(() => parse(512, Buffer.concat([Buffer.from('not a tar'.padEnd(512, 'x')), Buffer.alloc(1024)])), { code: 'EBADMSG', message: /corrupt tar header at byte 0/ });
});
