// An image rootfs in a container with its own user namespace (container 0 is
// host 100000): the layers show as the container root's (idmapped lower
// layers), whiteouts and opaque directories still hold, and what the
// container writes lands in its upper directory under the mapped host ids;
// read-only roots and the image's volumes too.
import t from 'tap';
import { chmodSync, lstatSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { images, run } from '../../src/index.js';
import { rootfs as busybox, out } from '../helpers.js';
import { dirTar, layerTar, ociLayout } from '../fixtures/images/build.js';

const dir = mkdtempSync('/tmp/bth-imguser-');
chmodSync(dir, 0o711); // the container's root (host 100000) walks through to its rootfs
const data = join(dir, 'data');
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const opts = { dataDir: data };
const HOST = 100000;
const maps = { uidMappings: [{ containerID: 0, hostID: HOST, size: 65536 }], gidMappings: [{ containerID: 0, hostID: HOST, size: 65536 }] };
let n = 0;

async function shOn(image: string, script: string, o: { readonly?: boolean; id?: string; keep?: boolean } = {}) {
  const id = o.id ?? `bth-imguser-${process.pid}-${++n}`;
  const root = images.rootfs(image, { ...opts, id, readonly: o.readonly, ...maps });
  const s = images.spec(images.inspect(image, opts), { ...opts, rootfs: root, entrypoint: ['sh', '-c', script] });
  if (!s.linux!.namespaces!.some((x) => x.type === 'user')) throw new Error('images.spec made no user namespace');
  const r = await run({ spec: s, overlay: o.keep ? { ...root.overlay, release: undefined } : root.overlay, input: '' });
  return { r, id, release: () => root.overlay.release!() };
}

t.before(async () => {
  const app = await layerTar([
    { name: 'data/', type: 'directory' },
    { name: 'data/old', content: 'old' },
    { name: 'etc/motd', content: 'hello' },
    { name: 'srv/', type: 'directory' },
    { name: 'srv/www', content: 'www', uid: 33, gid: 33 },
  ]);
  const delta = await layerTar([
    { name: 'etc/.wh.motd' },
    { name: 'data/.wh..wh..opq' },
    { name: 'data/new', content: 'new' },
  ]);
  ociLayout(join(dir, 'oci'), { layers: [dirTar(busybox), app, delta], name: 'u', config: { Cmd: ['sh'], Volumes: { '/srv': {} } } });
  ociLayout(join(dir, 'one'), { layers: [dirTar(busybox)], name: 'one', config: { Cmd: ['sh'] } });
  await images.import(join(dir, 'oci'), opts);
  await images.import(join(dir, 'one'), opts);
});

t.test('the layers are the container root\'s; a write lands in the upper dir under the mapped host uid', async (t) => {
  const { r, id, release } = await shOn('u', [
    'cat /proc/self/uid_map | tr -s " "',
    'stat -c %u /bin/busybox',
    'stat -c %u:%g /',
    'ls /data',
    'test -e /etc/motd || echo motd-hidden',
    'echo mine > /etc/mine && stat -c %u:%g /etc/mine',
    'rm /bin/ls && echo removed',
  ].join('; '), { keep: true });
  t.equal(r.exitCode, 0, r.stderr.toString());
  t.equal(out(r), ` 0 ${HOST} 65536\n0\n0:0\nnew\nmotd-hidden\n0:0\nremoved\n`);
  const upper = join(data, 'containers', id, 'upper');
  const mine = statSync(join(upper, 'etc', 'mine'));
  t.same([mine.uid, mine.gid], [HOST, HOST], 'the new file is owned by the mapped host ids');
  t.same([statSync(upper).uid, statSync(upper).gid], [HOST, HOST], 'the upper dir is the container root\'s');
  const wh = lstatSync(join(upper, 'bin', 'ls'));
  t.ok(wh.isCharacterDevice() && wh.rdev === 0, 'a removal is a whiteout in the upper dir');
  const layer = images.inspect('u', opts).layers[0]!.diffId.slice(7);
  t.equal(statSync(join(data, 'layers', 'sha256', layer, 'bin', 'busybox')).uid, 0, 'the layer itself is untouched');
  await release();
});

t.test('read-only roots in a user namespace: several layers, and one', async (t) => {
  const many = await shOn('u', 'stat -c %u /bin/busybox; touch /etc/x 2>&1', { readonly: true });
  t.equal(many.r.exitCode, 1);
  t.match(out(many.r), /^0\n.*Read-only file system/s);
  const one = await shOn('one', 'stat -c %u:%g /bin/busybox; touch /etc/x 2>&1', { readonly: true });
  t.equal(one.r.exitCode, 1);
  t.match(out(one.r), /^0:0\n.*Read-only file system/s);
});

t.test("the image's volume: its files owned as in the image, seen through the mapping", async (t) => {
  const { r, id, release } = await shOn('u', 'stat -c %u:%g /srv /srv/www; echo w > /srv/written && stat -c %u /srv/written', { keep: true });
  t.teardown(release);
  t.equal(r.exitCode, 0, r.stderr.toString());
  t.equal(out(r), '0:0\n33:33\n0\n');
  const vol = join(data, 'containers', id, 'volumes', '0');
  t.equal(statSync(join(vol, 'www')).uid, HOST + 33, 'on the host: shifted by the mapping');
  t.equal(statSync(join(vol, 'written')).uid, HOST);
});

t.test('an id the mapping does not cover is refused, naming the file', async (t) => {
  t.throws(() => images.rootfs('u', { ...opts, id: 'bth-imguser-small', uidMappings: [{ containerID: 0, hostID: HOST, size: 10 }], gidMappings: maps.gidMappings }), {
    code: 'EINVAL', message: /uidMappings: uid 33 of \/srv\/www is not mapped/,
  });
  t.same(readdirSync(join(data, 'containers')), [], 'nothing half-made');
});

t.test('cleanup', async (t) => {
  images.remove('u', opts);
  images.remove('one', opts);
  t.same(readdirSync(join(data, 'layers', 'sha256')), []);
});
