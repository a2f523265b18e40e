// Pure parts of networking: addresses, the allocator, nftables scripts, names.
import t from 'tap';
import {
  contains4,
  formatIp4,
  formatIp6,
  hostRange4,
  nth6,
  overlaps4,
  parseCidr4,
  parseCidr6,
  parseIp4,
  parseIp6,
} from '../../src/netns/cidr.js';
import { addLease, allocate, checkTable, emptyTable, reclaim, release, type Lease, type LeaseTable } from '../../src/netns/ipam.js';
import { bridgeName, checkIfname, checkNetworkName, containerChains, macFor, vethName } from '../../src/netns/names.js';
import { containerScript, deleteScript, networkScript } from '../../src/netns/nft.js';
import { parseRouteTable } from '../../src/netns/routes.js';
import { listenFdsEnv } from '../../src/netns/activation.js';

t.test('IPv4 addresses and CIDRs', async (t) => {
  t.equal(parseIp4('198.18.5.1'), 0xc6120501);
  t.equal(formatIp4(0xc6120501), '198.18.5.1');
  t.equal(formatIp4(0xffffffff), '255.255.255.255');
  t.same(parseCidr4('198.18.0.0/15'), { family: 4, network: 0xc6120000, prefix: 15 });
  t.throws(() => parseCidr4('198.18.5.1/24'), { code: 'EINVAL', message: /host bits set \(did you mean 198\.18\.5\.0\/24\?\)/ });
  t.throws(() => parseCidr4('198.18.5.0/33'), { code: 'EINVAL', message: /prefix longer than 32/ });
  t.throws(() => parseCidr4('198.18.5.0'), { code: 'EINVAL', message: /"198\.18\.5\.0".*ADDRESS\/PREFIX/ });
  t.throws(() => parseCidr4('198.18.256.0/24'), { code: 'EINVAL', message: /IPv4 address/ });
  t.throws(() => parseIp4('01.2.3.4'), { code: 'EINVAL' });
  const c = parseCidr4('198.18.5.0/24');
  t.ok(contains4(c, parseIp4('198.18.5.255')));
  t.notOk(contains4(c, parseIp4('198.18.6.0')));
  t.same(hostRange4(c), { first: parseIp4('198.18.5.1'), last: parseIp4('198.18.5.254') });
  t.same(hostRange4(parseCidr4('198.18.5.0/31')), { first: parseIp4('198.18.5.0'), last: parseIp4('198.18.5.1') });
  t.ok(overlaps4(parseCidr4('198.18.0.0/15'), c));
  t.ok(overlaps4(c, parseCidr4('198.18.0.0/15')));
  t.notOk(overlaps4(c, parseCidr4('198.18.6.0/24')));
  t.ok(overlaps4(parseCidr4('0.0.0.0/0'), c));
});

t.test('IPv6 addresses and CIDRs', async (t) => {
  for (const [text, canon] of [
    ['fd00::1', 'fd00::1'],
    ['FD00:0:0:0:0:0:0:1', 'fd00::1'],
    ['::', '::'],
    ['::1', '::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
    ['::ffff:198.18.0.1', '::ffff:c612:1'],
  ])
    t.equal(formatIp6(parseIp6(text)), canon, text);
  const c = parseCidr6('fd00:b:5::/64');
  t.equal(formatIp6(nth6(c, 2n)), 'fd00:b:5::2');
  t.throws(() => parseCidr6('fd00::1/64'), { code: 'EINVAL', message: /did you mean fd00::\/64/ });
  t.throws(() => parseIp6('fd00::g'), { code: 'EINVAL' });
});

const owner = (id: string, pid = 100): Omit<Lease, 'ip'> => ({ id, pid, startTime: '1', link: `bthv${id}` });
const input = (subnet: string, extra: Partial<Parameters<typeof allocate>[1]> = {}) => ({
  subnet: parseCidr4(subnet),
  reserved: [formatIp4(parseCidr4(subnet).network + 1)],
  network: 'n1',
  ...extra,
});

t.test('allocation: the gateway, network and broadcast addresses are never handed out', async (t) => {
  let table: LeaseTable = emptyTable();
  const got: string[] = [];
  for (let i = 0; i < 5; i++) {
    const ip = allocate(table, input('198.18.5.0/29'));
    got.push(ip);
    table = addLease(table, { ...owner(`c${i}`), ip });
  }
  t.same(got, ['198.18.5.2', '198.18.5.3', '198.18.5.4', '198.18.5.5', '198.18.5.6']);
  t.throws(() => allocate(table, input('198.18.5.0/29')), { code: 'ENOSPC', message: 'ENOSPC: network n1 (198.18.5.0/29) has no free address' });
});

t.test('allocation never hands out one address twice, and moves on past released ones', async (t) => {
  let table: LeaseTable = emptyTable();
  const seen = new Set<string>();
  for (let i = 0; i < 200; i++) {
    const ip = allocate(table, input('198.18.6.0/24'));
    t.notOk(table.leases.some((l) => l.ip === ip), `${ip} is free`);
    seen.add(ip);
    table = addLease(table, { ...owner(`c${i}`), ip });
    if (i % 3 === 0) table = release(table, `c${i - 1}`).table; // churn
  }
  t.equal(new Set(table.leases.map((l) => l.ip)).size, table.leases.length, 'no duplicates among live leases');
  // The cursor: a just-released address is not the next one handed out.
  let t2: LeaseTable = emptyTable();
  t2 = addLease(t2, { ...owner('a'), ip: allocate(t2, input('198.18.7.0/24')) });
  t2 = addLease(t2, { ...owner('b'), ip: allocate(t2, input('198.18.7.0/24')) });
  t2 = release(t2, 'a').table;
  t.equal(allocate(t2, input('198.18.7.0/24')), '198.18.7.4', 'continues after the cursor');
  // ... and it wraps around to the freed one at the end.
  let t3: LeaseTable = { cursor: '198.18.8.6', leases: [{ ...owner('x'), ip: '198.18.8.3' }] };
  t.equal(allocate(t3, input('198.18.8.0/29')), '198.18.8.2', 'wraps to the start');
  t3 = { cursor: '198.18.8.2', leases: [{ ...owner('x'), ip: '198.18.8.3' }] };
  t.equal(allocate(t3, input('198.18.8.0/29')), '198.18.8.4');
});

t.test('a fixed address', async (t) => {
  const table = addLease(emptyTable(), { ...owner('a'), ip: '198.18.5.2' });
  t.equal(allocate(table, input('198.18.5.0/24', { want: '198.18.5.9' })), '198.18.5.9');
  t.throws(() => allocate(table, input('198.18.5.0/24', { want: '198.18.5.2' })), { code: 'EADDRINUSE', message: /198\.18\.5\.2 of network n1 is in use/ });
  t.throws(() => allocate(table, input('198.18.5.0/24', { want: '198.18.5.1' })), { code: 'EADDRINUSE' }, 'the gateway');
  t.throws(() => allocate(table, input('198.18.5.0/24', { want: '198.18.5.255' })), { code: 'EINVAL', message: /not a host address/ });
  t.throws(() => allocate(table, input('198.18.5.0/24', { want: '198.18.9.3' })), { code: 'EINVAL' });
});

t.test('reclaim and release', async (t) => {
  let table: LeaseTable = emptyTable();
  for (const [id, pid] of [['a', 1], ['b', 2], ['c', 3]] as const) table = addLease(table, { ...owner(id, pid), ip: allocate(table, input('198.18.5.0/24')) });
  const r = reclaim(table, (l) => l.pid !== 2);
  t.same(r.dead.map((l) => l.id), ['b']);
  t.same(r.table.leases.map((l) => l.id), ['a', 'c']);
  t.equal(r.table.cursor, table.cursor, 'the cursor stays');
  t.same(release(table, 'a', 99).released, [], 'another owner of the same id keeps its lease');
  t.same(release(table, 'a', 1).released.map((l) => l.ip), ['198.18.5.2']);
  t.throws(() => checkTable({ leases: [{ ip: 1 }] }, '/x/leases.json'), { code: 'EINVAL', message: /\/x\/leases\.json: not a lease table/ });
  t.same(checkTable({ leases: [] }, 'f'), { leases: [] });
});

t.test('nftables scripts', async (t) => {
  t.equal(
    networkScript({ chains: 'n_1', bridge: 'bthb1', subnet: '198.18.5.0/24', masquerade: true }),
    [
      'add table inet berth',
      'add chain inet berth n_1_post { type nat hook postrouting priority srcnat; policy accept; }',
      'flush chain inet berth n_1_post',
      'add rule inet berth n_1_post ip saddr 198.18.5.0/24 ip daddr != 198.18.5.0/24 masquerade',
      'add rule inet berth n_1_post oifname "bthb1" ip saddr 198.18.5.0/24 ct status dnat masquerade',
      'add rule inet berth n_1_post oifname "bthb1" ip saddr 127.0.0.0/8 masquerade',
      '',
    ].join('\n'),
  );
  const s = containerScript({
    chains: 'c_1',
    ip: '198.18.5.2',
    ports: [
      { protocol: 'tcp', hostPort: 8080, containerPort: 80 },
      { protocol: 'udp', hostPort: 5353, containerPort: 53, hostIp: '198.19.0.1' },
    ],
  });
  t.match(s, /add chain inet berth c_1_pre \{ type nat hook prerouting priority dstnat; policy accept; \}/);
  t.match(s, /add chain inet berth c_1_out \{ type nat hook output priority -100; policy accept; \}/);
  t.match(s, /add rule inet berth c_1_pre meta nfproto ipv4 fib daddr type local tcp dport 8080 dnat ip to 198\.18\.5\.2:80\n/);
  t.match(s, /add rule inet berth c_1_out meta nfproto ipv4 fib daddr type local tcp dport 8080 dnat ip to 198\.18\.5\.2:80\n/);
  t.match(s, /add rule inet berth c_1_pre meta nfproto ipv4 ip daddr 198\.19\.0\.1 udp dport 5353 dnat ip to 198\.18\.5\.2:53\n/);
  t.equal(s.split('\n').filter((l) => l.startsWith('flush chain')).length, 2, 'each chain is redefined whole');
  t.equal(
    deleteScript(['c_1_pre']),
    'add table inet berth\nadd chain inet berth c_1_pre\nflush chain inet berth c_1_pre\ndelete chain inet berth c_1_pre\n',
  );
});

t.test('names', async (t) => {
  const b = bridgeName('/run/berth', 'web');
  t.match(b, /^bthb[0-9a-f]{10}$/);
  t.not(bridgeName('/tmp/bth-x', 'web'), b, 'another root, another bridge');
  const v = vethName('/run/berth', 'c1', 10);
  t.match(v, /^bthv[0-9a-f]{9}a$/);
  t.ok(v.length <= 15, 'fits IFNAMSIZ');
  t.match(containerChains('/run/berth', 'c1'), /^c_[0-9a-f]{12}$/);
  t.equal(macFor('198.18.5.2'), '02:42:c6:12:05:02');
  t.equal(checkNetworkName('web-1'), 'web-1');
  t.throws(() => checkNetworkName('Web'), { code: 'EINVAL', message: /invalid network name "Web"/ });
  t.throws(() => checkNetworkName('../x'), { code: 'EINVAL' });
  t.throws(() => checkIfname('a-very-long-name-x', 'bridge name'), { code: 'EINVAL', message: /invalid bridge name/ });
});

t.test('the host route table', async (t) => {
  const text = [
    'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT',
    'eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0',
    'eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0',
    'bthb1\t000012C6\t00000000\t0001\t0\t0\t0\t0000FEFF\t0\t0\t0',
  ].join('\n');
  t.same(
    parseRouteTable(text).map((r) => [r.iface, formatIp4(r.dst.network), r.dst.prefix]),
    [
      ['eth0', '0.0.0.0', 0],
      ['eth0', '192.0.2.0', 24],
      ['bthb1', '198.18.0.0', 15],
    ],
  );
});

t.test('listen-fd environment', async (t) => {
  t.same(
    listenFdsEnv([
      { fd: 20, type: 'tcp', name: 'http', port: 80 },
      { fd: 21, type: 'unix', name: 'ctl', path: '/x' },
    ]),
    ['LISTEN_FDS=2', 'LISTEN_PID=1', 'LISTEN_FDNAMES=http:ctl'],
  );
});
