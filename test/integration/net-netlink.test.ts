// The addon's rtnetlink calls on the real kernel, in a namespace of the
// test's own (bth-nl-*): veth pairs, moving and renaming, MTU, MAC,
// addresses, routes, bridges, and errors shaped like Node's.
import t from 'tap';
import { execa } from 'execa';
import { closeSync, openSync } from 'node:fs';
import { Netlink } from '../../src/netns/netlink.js';
import { rand } from './net-lib.js';

const tag = `${process.pid.toString(36)}${rand(1e5).toString(36)}`;
const ns = `bth-nl-${tag}`;
const [br, va, vb, vc] = ['b', 'a', 'x', 'c'].map((s) => `bth${s}${tag}`.slice(0, 15)) as [string, string, string, string];
const o3 = 1 + rand(250); // a random 198.18.o3.0/24, so concurrent runs do not collide
const sub = (h: number) => `198.18.${o3}.${h}`;
const ipOut = async (...a: string[]) => (await execa('ip', a)).stdout;

t.before(async () => {
  await execa('ip', ['netns', 'add', ns]);
});
t.teardown(async () => {
  for (const l of [br, va, vb, vc]) await execa('ip', ['link', 'del', l]).catch(() => {});
  await execa('ip', ['netns', 'del', ns]).catch(() => {});
});

t.test('veth pair, bridge, move into a namespace and rename, MTU, MAC, addresses, routes', async (t) => {
  const host = Netlink.host();
  const nsFd = openSync(`/run/netns/${ns}`, 'r');
  t.teardown(() => {
    host.close();
    closeSync(nsFd);
  });
  host.add({ name: br, kind: 'bridge', up: true, mac: '02:00:5e:00:00:01' });
  host.addr(br, sub(1), 24);
  host.add({ name: va, kind: 'veth', master: br, up: true, mtu: 1400, peer: { name: vb, mtu: 1400 } });
  const a = host.get(va)!;
  t.equal(a.kind, 'veth');
  t.equal(a.mtu, 1400);
  t.equal(a.master, host.get(br)!.index, 'a port of the bridge');
  t.equal(host.get(br)!.mac, '02:00:5e:00:00:01', 'the bridge keeps its MAC');

  // Move the peer into the namespace by fd, then rename it there.
  host.set(vb, { netnsFd: nsFd, mac: '02:42:c6:12:fe:02' });
  t.equal(host.get(vb), null, 'gone from the host');
  const inside = Netlink.in(nsFd);
  t.teardown(() => inside.close());
  inside.set(vb, { name: 'eth0' });
  inside.set('eth0', { up: true, mtu: 1300 });
  inside.set('lo', { up: true });
  inside.addr('eth0', sub(2), 24);
  inside.addr('eth0', 'fd00:b7:fe::2', 64);
  inside.route({ gateway: sub(1) });
  inside.route({ dst: '198.18.253.0', prefixLen: 24, link: 'eth0' });
  const eth0 = inside.get('eth0')!;
  t.match(eth0, { name: 'eth0', mac: '02:42:c6:12:fe:02', mtu: 1300, up: true });
  t.ok(inside.get('lo')!.up, 'loopback up');
  t.same(inside.list().map((l) => l.name).sort(), ['eth0', 'lo'], 'the namespace has only its own links');
  t.match(await ipOut('-n', ns, 'addr', 'show', 'eth0'), new RegExp(`inet ${sub(2)}/24 brd ${sub(255)}[\\s\\S]*inet6 fd00:b7:fe::2/64`));
  const routes = await ipOut('-n', ns, 'route');
  t.match(routes, `default via ${sub(1)} dev eth0`);
  t.match(routes, /198\.18\.253\.0\/24 dev eth0/);
  const ping = await execa('ip', ['netns', 'exec', ns, '/bin/busybox', 'ping', '-c', '1', '-W', '2', sub(1)], { reject: false });
  t.equal(ping.exitCode, 0, 'the namespace reaches the bridge address');

  // Creating the peer straight into the namespace by pid-less fd.
  host.add({ name: vc, kind: 'veth', peer: { name: 'eth1', netnsFd: nsFd } });
  t.ok(inside.get('eth1'), 'peer born inside');
  t.ok(host.del(vc), 'deleting one end');
  t.equal(inside.get('eth1'), null, 'deletes both');
  t.equal(host.del(vc), false, 'false once gone');
  // Moving by pid: a process in the namespace.
  const holder = execa('ip', ['netns', 'exec', ns, 'sleep', '10']);
  holder.catch(() => {});
  await new Promise((r) => setTimeout(r, 100));
  host.add({ name: vc, kind: 'veth', peer: { name: vb } });
  host.set(vb, { netnsPid: holder.pid! });
  t.ok(inside.get(vb), 'moved by pid');
  t.ok(host.del(vc));
  holder.kill();

  host.set(va, { master: null });
  t.equal(host.get(va)!.master, 0, 'left the bridge');
  t.ok(host.del(va));
  t.ok(host.del(br));
});

t.test('errors are Node-style, naming the link or address', async (t) => {
  const host = Netlink.host();
  t.teardown(() => host.close());
  host.add({ name: va, kind: 'veth', peer: { name: vb } });
  t.teardown(() => host.del(va));
  t.throws(() => host.add({ name: va, kind: 'veth', peer: { name: vc } }), {
    code: 'EEXIST',
    errno: -17,
    syscall: 'RTM_NEWLINK',
    path: va,
    message: new RegExp(`^EEXIST: .*, RTM_NEWLINK '${va}'`),
  });
  t.throws(() => host.addr('bthnosuch0', sub(9), 24), { code: 'ENODEV', syscall: 'RTM_GETLINK', path: 'bthnosuch0' });
  t.throws(() => host.set(va, { mtu: 10 }), { code: 'EINVAL', syscall: 'RTM_NEWLINK' });
  t.throws(() => host.set(va, { mac: 'zz' }), { code: 'EINVAL', path: 'zz' });
  t.throws(() => host.addr(va, '198.18.254.300', 24), { code: 'EINVAL', path: '198.18.254.300/24' });
  t.throws(() => host.add({ name: 'bthx-too-long-name', kind: 'bridge' }), { code: 'ERANGE', detail: 'Attribute failed policy validation' }, 'the extended ack is the detail');
  t.throws(() => Netlink.in(0x7ffffff), { code: 'EBADF', syscall: 'setns' });
});
