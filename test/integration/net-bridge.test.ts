// Bridge networks on the real kernel: containers on one bridge reach each
// other, published ports (TCP and UDP) are reached from a client namespace
// and from the host, masquerade, pods, the host and none modes, bad input,
// and delete / crash clean-up. Servers are busybox httpd, nc and udpsvd.
import t from 'tap';
import { execa } from 'execa';
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { create, type Container } from '../../src/index.js';
import { cgroupPlacement, openCgroup } from '../../src/cgroups/index.js';
import { NFT_FAMILY, NFT_TABLE } from '../../src/netns/names.js';
import { spec } from '../helpers.js';
import { formatCidr4 } from '../../src/netns/cidr.js';
import { hostRoutes } from '../../src/netns/routes.js';
import { clientNs, fetchScript, listenFdShim, output, rand, randomNetwork, sleep, tmpRoot, until } from './net-lib.js';

const httpd = (body: string, port = 80) => ['sh', '-c', `mkdir -p /tmp/www && echo ${body} > /tmp/www/index.html && exec httpd -f -p ${port} -h /tmp/www`];
const linkExists = (name: string) => existsSync(`/sys/class/net/${name}`);
const nftTable = async () => (await execa('nft', ['list', 'table', NFT_FAMILY, NFT_TABLE], { reject: false })).stdout;

async function fetchText(url: string): Promise<string> {
  const r = await fetch(url, { signal: AbortSignal.timeout(5000) });
  return r.text();
}

/** A free host port (bound and released at once; concurrent runs may still race, so callers retry). */
async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(20000 + rand(20000), '0.0.0.0', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
    s.on('error', () => resolve(freePort()));
  });
}

t.test('two containers on one bridge reach each other; delete removes veth and address', async (t) => {
  const { root, nets } = tmpRoot(t);
  const net = await randomNetwork(nets, 'pair');
  t.ok(linkExists(net.bridge), `bridge ${net.bridge} exists`);
  const network = { mode: 'bridge' as const, networks: ['pair'], root };
  const server = await create({ spec: spec(httpd('hello-from-a', 8080)), network });
  t.teardown(() => server.delete({ force: true }));
  await server.start();
  const a = server.network!.addresses[0]!;
  t.match(a, { network: 'pair', interface: 'eth0', gateway: net.gateway, prefixLen: 24 });
  t.ok(linkExists(a.link), 'veth host end exists');
  const client = await create({
    spec: spec(['sh', '-c', `for i in 1 2 3 4 5 6 7 8 9 10; do timeout 2 wget -q -O - http://${a.ip}:8080/ && exit 0; sleep 0.2; done; exit 1`]),
    network,
  });
  const out = output(client);
  await client.start();
  const r = await client.wait();
  t.equal(r.exitCode, 0, out.text());
  t.equal(out.text(), 'hello-from-a\n', 'fetched from the other container');
  t.not(client.network!.addresses[0]!.ip, a.ip, 'each has its own address');
  await client.delete();
  t.notOk(linkExists(client.network!.addresses[0]!.link), 'delete removed the veth');
  t.same(nets.leases(net).map((l) => l.ip), [a.ip], 'and released the address');
  await server.delete({ force: true });
  t.same(nets.leases(net), []);
  await t.rejects(nets.remove('nosuch'), { code: 'ENOENT', message: /unknown network "nosuch"/ });
  await nets.remove('pair');
  t.notOk(linkExists(net.bridge), 'network removed with its bridge');
});

t.test('published ports: TCP and UDP from a client namespace and from the host; masquerade out', async (t) => {
  const { root, nets } = tmpRoot(t);
  const net = await randomNetwork(nets, 'pub');
  const cli = await clientNs(t);
  const shim = await listenFdShim(t);
  let c: Container | undefined;
  let tcp = 0, udp = 0;
  for (let i = 0; !c; i++) {
    [tcp, udp] = [await freePort(), await freePort()];
    try {
      c = await create({
        // httpd for TCP; the shim answers UDP datagrams with "pong DATA".
        spec: spec(['sh', '-c', 'mkdir -p /tmp/www && echo published > /tmp/www/index.html && httpd -p 80 -h /tmp/www && exec /mnt/sd-accept -u 53'], (s) =>
          s.mounts!.push({ destination: '/mnt', type: 'bind', source: shim, options: ['rbind', 'ro'] }),
        ),
        network: {
          mode: 'bridge',
          networks: ['pub'],
          root,
          publish: [
            { hostPort: tcp, containerPort: 80 },
            { hostPort: udp, containerPort: 53, protocol: 'udp' },
          ],
        },
      });
    } catch (e) {
      if ((e as { code?: string }).code !== 'EADDRINUSE' || i > 5) throw e;
    }
  }
  t.teardown(() => c!.delete({ force: true }));
  await c.start();
  t.match(await nftTable(), new RegExp(`tcp dport ${tcp} dnat ip to ${c.network!.addresses[0]!.ip}:80`), 'DNAT rule in table berth');

  // From another host (the client namespace) to the host's address on its link.
  const body = await until(() => cli.node(fetchScript(`http://${cli.hostIp}:${tcp}/`)).catch(() => ''), 8000, 'httpd');
  t.equal(body, 'published\n', 'TCP from the client namespace');
  const udpScript = `
    import { createSocket } from 'node:dgram';
    const s = createSocket('udp4');
    const t = setTimeout(() => process.exit(3), 4000);
    s.on('message', (m) => { process.stdout.write(m.toString()); clearTimeout(t); s.close(); });
    s.send('from-client', ${udp}, ${JSON.stringify(cli.hostIp)});`;
  t.equal(await cli.node(udpScript), 'pong from-client\n', 'UDP from the client namespace');

  // From the host itself: loopback and the bridge's gateway address (output-chain DNAT).
  t.equal(await fetchText(`http://127.0.0.1:${tcp}/`), 'published\n', 'TCP from the host to 127.0.0.1');
  t.equal(await fetchText(`http://${net.gateway}:${tcp}/`), 'published\n', 'TCP from the host to the gateway address');
  const reply = await new Promise<string>((resolve, reject) => {
    const s = createSocket('udp4');
    const timer = setTimeout(() => (s.close(), reject(new Error('no UDP reply'))), 4000);
    s.on('message', (m) => (clearTimeout(timer), s.close(), resolve(m.toString())));
    s.send('from-host', udp, '127.0.0.1');
  });
  t.equal(reply, 'pong from-host\n', 'UDP from the host');

  // Masquerade: the client namespace has no route to the bridge's subnet, so
  // only traffic rewritten to the host's address on its link gets an answer.
  const listener = execa('ip', ['netns', 'exec', cli.ns, process.execPath, '--input-type=module', '-e', `
    import { createServer } from 'node:net';
    const srv = createServer((s) => { s.end(s.remoteAddress + '\\n'); srv.close(); }).listen(9000, '0.0.0.0', () => console.log('up'));
    setTimeout(() => process.exit(3), 8000);`]);
  listener.catch(() => {});
  t.teardown(() => listener.kill());
  await new Promise<void>((resolve) => listener.stdout!.once('data', () => resolve()));
  const outbound = await create({
    spec: spec(['sh', '-c', `nc ${cli.clientIp} 9000 </dev/null`]),
    network: { mode: 'bridge', networks: ['pub'], root },
  });
  const o = output(outbound);
  await outbound.start();
  await outbound.wait();
  await outbound.delete();
  t.equal(o.text(), `${cli.hostIp}\n`, 'the client saw the host address, not the container address');

  // Hairpin: another container on the network reaches the published port through the gateway address.
  const hairpin = await create({
    spec: spec(['sh', '-c', `wget -q -O - http://${net.gateway}:${tcp}/`]),
    network: { mode: 'bridge', networks: ['pub'], root },
  });
  const hp = output(hairpin);
  await hairpin.start();
  await hairpin.wait();
  await hairpin.delete();
  t.equal(hp.text(), 'published\n', 'a container reaches a published port of its own network');

  await c.delete({ force: true });
  t.notMatch(await nftTable(), new RegExp(`dport ${tcp}`), 'the rules went with the container');
  await nets.remove('pub');
  t.notMatch(await nftTable(), /chain/, 'no chain of ours left');
});

t.test('a container on two networks, one with IPv6', async (t) => {
  const { root, nets } = tmpRoot(t);
  const a = await randomNetwork(nets, 'one');
  const b = await randomNetwork(nets, 'two', { subnet6: true });
  t.ok(b.gateway6, `IPv6 gateway ${b.gateway6}`);
  // A server on the host, on network two's IPv6 gateway address.
  const srv = createServer((s) => s.end('over-ipv6\n'));
  await new Promise<void>((r) => srv.listen(0, b.gateway6, r));
  t.teardown(() => srv.close());
  const port = (srv.address() as { port: number }).port;
  const c = await create({
    spec: spec(['sh', '-c', `ip -o addr show eth0; ip -o addr show eth1; ip route; nc ${b.gateway6} ${port} </dev/null`]),
    network: { mode: 'bridge', networks: ['one', { name: 'two', ip: b.subnet.replace(/0\/24$/, '77') }], root },
  });
  const out = output(c);
  await c.start();
  await c.wait();
  const [e0, e1] = c.network!.addresses;
  t.match(e0, { network: 'one', interface: 'eth0', gateway: a.gateway });
  t.match(e1, { network: 'two', interface: 'eth1', ip: b.subnet.replace(/0\/24$/, '77') });
  t.ok(e1!.ip6?.endsWith('::4d'), `IPv6 at the same offset as .77: ${e1!.ip6}`);
  t.match(out.text(), new RegExp(`eth0\\s+inet ${e0!.ip}/24`));
  t.match(out.text(), new RegExp(`eth1\\s+inet ${e1!.ip}/24`));
  t.match(out.text(), new RegExp(`default via ${a.gateway} dev eth0`), 'the default route is via the first network');
  t.match(out.text(), /over-ipv6\n$/, 'reached the host over IPv6');
  await c.delete();
  t.same([...nets.leases(a), ...nets.leases(b)], [], 'both leases released');
});

t.test('a pod: containers sharing one namespace talk over localhost', async (t) => {
  const { root, nets } = tmpRoot(t);
  await randomNetwork(nets, 'pod');
  const infra = await create({ spec: spec(httpd('pod-local', 8081)), network: { mode: 'bridge', networks: ['pod'], root } });
  t.teardown(() => infra.delete({ force: true }));
  await infra.start();
  const side = await create({
    spec: spec(['sh', '-c', 'for i in 1 2 3 4 5 6 7 8 9 10; do timeout 2 wget -q -O - http://127.0.0.1:8081/ && ip -o addr show eth0 && exit 0; sleep 0.2; done; exit 1']),
    network: { mode: 'container', container: infra },
  });
  const out = output(side);
  await side.start();
  t.equal((await side.wait()).exitCode, 0, out.text());
  t.match(out.text(), /^pod-local\n/, 'localhost is shared');
  t.match(out.text(), new RegExp(`inet ${infra.network!.addresses[0]!.ip.replace(/\./g, '\\.')}/24`), 'and so is eth0');
  await side.delete();
});

t.test('modes none and host', async (t) => {
  const none = await create({ spec: spec(['sh', '-c', 'ip -o link; echo --; ip -o addr show lo']), network: 'none' });
  const o = output(none);
  await none.start();
  await none.wait();
  await none.delete();
  const links = o.text().split('--')[0]!.trim().split('\n');
  t.equal(links.length, 1, `only loopback: ${o.text()}`);
  t.match(links[0], /lo: <LOOPBACK,UP,LOWER_UP>/, 'and it is up');
  t.match(o.text(), /inet 127\.0\.0\.1\/8/);

  const host = await create({ spec: spec(['cat', '/proc/net/dev']), network: { mode: 'host' } });
  const h = output(host);
  await host.start();
  await host.wait();
  await host.delete();
  t.equal(h.text().trim().split('\n').length, readFileSync('/proc/net/dev', 'utf8').trim().split('\n').length, "the host's links");
});

t.test('bad input names the problem and creates nothing', async (t) => {
  const { root, nets } = tmpRoot(t);
  await t.rejects(nets.ensure({ name: 'x', subnet: '198.18.5.1/24' }), { code: 'EINVAL', message: /invalid CIDR "198\.18\.5\.1\/24".*host bits set/ });
  await t.rejects(nets.ensure({ name: 'x', subnet: 'banana' }), { code: 'EINVAL', message: /invalid CIDR "banana"/ });
  await t.rejects(nets.ensure({ name: 'x', subnet: '198.18.5.0/24', gateway: '198.18.6.1' }), { code: 'EINVAL', message: /gateway 198\.18\.6\.1/ });
  await t.rejects(nets.ensure({ name: 'Bad/Name', subnet: '198.18.5.0/24' }), { code: 'EINVAL', message: /invalid network name/ });
  t.same(nets.list(), [], 'no network recorded');

  const tiny = await randomNetwork(nets, 'tiny', { prefix: 30 }); // a gateway and one container
  await t.rejects(nets.ensure({ name: 'other', subnet: tiny.subnet }), { code: 'EEXIST', message: /overlaps network tiny/ });
  await t.rejects(nets.ensure({ name: 'tiny', subnet: '198.18.0.0/30' }), { code: 'EEXIST', message: /already exists with subnet/ });
  const route = hostRoutes().find((r) => !r.iface.startsWith('bth'));
  if (route) await t.rejects(nets.ensure({ name: 'r', subnet: formatCidr4(route.dst) }), { code: 'EEXIST', message: /overlaps the host's route/ });

  const network = { mode: 'bridge' as const, networks: ['tiny'], root };
  const ports = () => readdirSync(`/sys/class/net/${tiny.bridge}/brif`);
  await t.rejects(create({ spec: spec(['true']), network: { ...network, networks: ['nosuch'] } }), { code: 'ENOENT', message: /unknown network "nosuch"/ });
  const first = await create({ spec: spec(['sleep', '30']), network });
  t.teardown(() => first.delete({ force: true }));
  t.equal(ports().length, 1, 'the first container is a port of the bridge');
  await t.rejects(create({ spec: spec(['true']), network }), { code: 'ENOSPC', message: /network tiny \(198\.18\.\d+\.0\/30\) has no free address/ });

  const busy = createServer().listen(0, '0.0.0.0');
  await new Promise((r) => busy.once('listening', r));
  t.teardown(() => busy.close());
  const port = (busy.address() as { port: number }).port;
  await first.delete({ force: true });
  await t.rejects(create({ spec: spec(['true']), network: { ...network, publish: [{ hostPort: port }] } }), {
    code: 'EADDRINUSE',
    message: new RegExp(`port tcp/${port} is already in use`),
  });
  await t.rejects(create({ spec: spec(['true']), network: { ...network, publish: [{ hostPort: 0 }] } }), { code: 'EINVAL', message: /publish\[0\]\.hostPort/ });
  t.same(ports(), [], 'no veth made by the failures (and the first one is gone)');
  t.same(nets.leases(tiny), [], 'no lease left');
  t.notMatch(await nftTable(), /c_[0-9a-f]+_pre/, 'no container chain');
});

t.test('a container that died without delete: the next call reclaims its address, veth and rules', async (t) => {
  const { root, nets } = tmpRoot(t);
  const net = await randomNetwork(nets, 'crash', { prefix: 30 });
  // A separate Node process creates a container with a published port and dies without cleaning up.
  const port = await freePort();
  const script = `
    import { create } from ${JSON.stringify(new URL('../../src/index.js', import.meta.url).href)};
    import { spec } from ${JSON.stringify(new URL('../helpers.js', import.meta.url).href)};
    const c = await create({ spec: spec(['sleep', '30']), network: { mode: 'bridge', networks: ['crash'], root: ${JSON.stringify(root)}, publish: [{ hostPort: ${port}, containerPort: 80 }] } });
    await c.start();
    console.log(JSON.stringify({ id: c.id, pid: c.pid, link: c.network.addresses[0].link }));
    process.kill(process.pid, 'SIGKILL');`;
  const child = await execa(process.execPath, ['--input-type=module', '-e', script], { reject: false, timeout: 20_000 });
  t.equal(child.signal, 'SIGKILL', child.stderr);
  const { id, pid, link } = JSON.parse(child.stdout) as { id: string; pid: number; link: string };
  // Not networking's to clean, but this test made it: the dead process's cgroup.
  t.teardown(() => openCgroup({ path: cgroupPlacement(undefined, id) }).destroy());
  t.equal(nets.leases(net).length, 1, 'its lease is still held while it runs');
  t.match(await nftTable(), new RegExp(`dport ${port}`));
  try {
    process.kill(pid, 'SIGKILL'); // the container itself dies too
  } catch {
    // it died with its parent
  }
  // Gone, or a zombie; it may vanish between two looks, so a failed read counts as gone.
  const dead = () => {
    try {
      return /^\S+ \S+ Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
    } catch {
      return true;
    }
  };
  await until(dead, 5000, 'the container to die');
  t.same(nets.leases(net), [], 'a dead owner holds nothing');
  // The next allocation on the full /30 reclaims the address and removes the leftovers.
  const next = await create({ spec: spec(['true']), network: { mode: 'bridge', networks: ['crash'], root } });
  t.teardown(() => next.delete({ force: true }));
  t.equal(next.network!.addresses[0]!.ip, net.subnet.replace(/\.0\/30$/, '.2'), 'the address is handed out again');
  t.notOk(linkExists(link), 'the old veth is gone');
  t.notMatch(await nftTable(), new RegExp(`dport ${port}`), 'and so are its rules');
  await next.delete();
  await sleep(0);
});
