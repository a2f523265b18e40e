// bench/net.ts: networking costs.
//   1. Time to give a namespace a veth on a bridge with an address, loopback
//      and eth0 up and a default route: berth's netlink calls, the same
//      steps as `ip` commands (one process per step, and `ip -batch`), and
//      berth's whole attach (lease under the lock + netlink).
//   2. TCP throughput with iperf3: a namespace set up by berth's attach ↔
//      the host through the veth and bridge, against loopback on the host.
//   3. inetd mode: connections per second, one busybox `cat` container each.
// All traffic stays on loopback, the bridge and namespaces made here
// (198.18.0.0/16); everything is removed at the end.
//
//   npx tsc -p . && node dist/bench/net.js [--runs 30] [--iperf-seconds 5] [--conns 200] [--concurrency 8]
import { execa } from 'execa';
import { closeSync, mkdtempSync, openSync, readlinkSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { defaultSpec } from '../src/index.js';
import { NetworkAttachment, Networks, inetd, type Network } from '../src/netns/index.js';
import { Netlink } from '../src/netns/netlink.js';
import { ensureTools, log, median, quantile, table } from './lib.js';

const { values: opt } = parseArgs({
  options: {
    runs: { type: 'string', default: '30' },
    'iperf-seconds': { type: 'string', default: '5' },
    conns: { type: 'string', default: '200' },
    concurrency: { type: 'string', default: '8' },
  },
});
const RUNS = Number(opt.runs), IPERF_S = Number(opt['iperf-seconds']), CONNS = Number(opt.conns), CONC = Number(opt.concurrency);
const ROOTFS = join(fileURLToPath(import.meta.url), '..', '..', '..', 'test', '.rootfs', 'busybox');

if (process.getuid?.() !== 0) throw new Error('run as root');
await ensureTools({ iperf3: 'iperf3', nft: 'nftables', ip: 'iproute2' });
await execa('bash', [join(ROOTFS, '..', '..', 'make-rootfs.sh')], { stdio: 'inherit' });

const root = mkdtempSync('/tmp/bth-bench-');
const nets = new Networks(root);
const namespaces = new Set<string>();
const ip = (...a: string[]) => execa('ip', a);
const cleanups: (() => Promise<unknown>)[] = [];

async function cleanup() {
  for (const f of cleanups.reverse()) await f().catch(() => {});
  for (const ns of namespaces) await ip('netns', 'del', ns).catch(() => {});
  for (const n of nets.list()) await nets.remove(n.name, { force: true }).catch(() => {});
  rmSync(root, { recursive: true, force: true });
}
process.on('SIGINT', () => void cleanup().then(() => process.exit(130)));

async function network(): Promise<Network> {
  for (let i = 0; ; i++) {
    try {
      return await nets.ensure({ name: 'bench', subnet: `198.18.${Math.floor(Math.random() * 256)}.0/24` });
    } catch (e) {
      if ((e as { code?: string }).code !== 'EEXIST' || i > 30) throw e;
    }
  }
}

/** Waits until `unshare -n` has moved pid into a namespace of its own. */
async function inOwnNetns(pid: number): Promise<void> {
  const own = readlinkSync('/proc/self/ns/net');
  for (let i = 0; i < 500 && readlinkSync(`/proc/${pid}/ns/net`) === own; i++) await new Promise((res) => setTimeout(res, 5));
}

const ms = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e6;
const fmt = (x: number) => x.toFixed(2);

try {
  const net = await network();
  const prefix = Number(net.subnet.split('/')[1]);
  const base = net.subnet.split('.').slice(0, 3).join('.');

  // ------------------------------------------------------------ 1. setup time
  type Variant = { name: string; run: (ns: string, veth: string, addr: string) => Promise<void> };
  const variants: Variant[] = [
    {
      name: 'berth netlink (addon)',
      run: async (ns, veth, addr) => {
        const fd = openSync(`/run/netns/${ns}`, 'r');
        try {
          const host = Netlink.host();
          host.add({ name: veth, kind: 'veth', master: net.bridge, up: true, mtu: net.mtu, peer: { name: 'eth0', netnsFd: fd, mtu: net.mtu } });
          host.close();
          const inside = Netlink.in(fd);
          inside.set('lo', { up: true });
          inside.set('eth0', { up: true });
          inside.addr('eth0', addr, prefix);
          inside.route({ gateway: net.gateway });
          inside.close();
        } finally {
          closeSync(fd);
        }
      },
    },
    {
      name: 'ip, one command per step (6)',
      run: async (ns, veth, addr) => {
        await ip('link', 'add', veth, 'mtu', String(net.mtu), 'type', 'veth', 'peer', 'name', 'eth0', 'mtu', String(net.mtu), 'netns', ns);
        await ip('link', 'set', veth, 'master', net.bridge, 'up');
        await ip('-n', ns, 'link', 'set', 'lo', 'up');
        await ip('-n', ns, 'link', 'set', 'eth0', 'up');
        await ip('-n', ns, 'addr', 'add', `${addr}/${prefix}`, 'dev', 'eth0');
        await ip('-n', ns, 'route', 'add', 'default', 'via', net.gateway);
      },
    },
    {
      name: 'ip -batch (2 processes)',
      run: async (ns, veth, addr) => {
        await execa('ip', ['-batch', '-'], {
          input: `link add ${veth} mtu ${net.mtu} type veth peer name eth0 mtu ${net.mtu} netns ${ns}\nlink set ${veth} master ${net.bridge} up\n`,
        });
        await execa('ip', ['-n', ns, '-batch', '-'], {
          input: `link set lo up\nlink set eth0 up\naddr add ${addr}/${prefix} dev eth0\nroute add default via ${net.gateway}\n`,
        });
      },
    },
  ];
  const times = new Map<string, number[]>([...variants.map((v) => [v.name, []] as [string, number[]]), ['berth attach (lease + netlink)', []]]);
  log(`setup: ${RUNS} rounds of ${variants.length + 1}, round-robin`);
  for (let r = 0; r < RUNS; r++) {
    for (const [k, v] of variants.entries()) {
      const ns = `bth-bench-${process.pid}-${k}`;
      const veth = `bthvbench${k}`;
      await ip('netns', 'add', ns);
      namespaces.add(ns);
      const t0 = process.hrtime.bigint();
      await v.run(ns, veth, `${base}.${200 + k}`);
      times.get(v.name)!.push(ms(t0));
      await ip('link', 'del', veth).catch(() => {});
      await ip('netns', 'del', ns);
      namespaces.delete(ns);
    }
    // The library's path: a process in a new netns (unshare -n sleep), then attach().
    const holder = execa('unshare', ['-n', 'sleep', '30']);
    holder.catch(() => {});
    const pid = holder.pid!;
    await inOwnNetns(pid);
    const a = NetworkAttachment.prepare({ mode: 'bridge', networks: ['bench'], root }, `bench-${r}`);
    const t0 = process.hrtime.bigint();
    await a.attach(pid);
    times.get('berth attach (lease + netlink)')!.push(ms(t0));
    await a.detach();
    holder.kill('SIGKILL');
    await holder.catch(() => {});
  }
  const ipMedian = median(times.get('ip, one command per step (6)')!);
  const rows = [['setup of one veth + address + route', 'median ms', 'p10', 'p90', '÷ ip (6 cmds)']];
  for (const [name, xs] of times) {
    const s = [...xs].sort((a, b) => a - b);
    rows.push([name, fmt(median(xs)), fmt(quantile(s, 0.1)), fmt(quantile(s, 0.9)), `${(ipMedian / median(xs)).toFixed(1)}×`]);
  }
  console.log(table(rows));

  // ------------------------------------------------------------ 2. iperf3
  log(`iperf3: ${IPERF_S} s each, veth (namespace via berth attach) and loopback`);
  const holder = execa('unshare', ['-n', 'sleep', String(IPERF_S * 4 + 30)]);
  holder.catch(() => {});
  cleanups.push(async () => holder.kill('SIGKILL'));
  await inOwnNetns(holder.pid!);
  const att = NetworkAttachment.prepare({ mode: 'bridge', networks: ['bench'], root }, 'bench-iperf');
  await att.attach(holder.pid!);
  cleanups.push(() => att.detach());
  async function iperf(serverIp: string, client: string[]): Promise<number> {
    const port = String(20000 + Math.floor(Math.random() * 20000));
    const server = execa('iperf3', ['-s', '-1', '-B', serverIp, '-p', port], { timeout: (IPERF_S + 20) * 1000 });
    server.catch(() => {});
    await new Promise((res) => setTimeout(res, 300));
    const r = await execa(client[0]!, [...client.slice(1), 'iperf3', '-c', serverIp, '-p', port, '-t', String(IPERF_S), '-J'], { timeout: (IPERF_S + 20) * 1000 });
    await server.catch(() => {});
    return (JSON.parse(r.stdout) as { end: { sum_received: { bits_per_second: number } } }).end.sum_received.bits_per_second / 1e9;
  }
  const veth = await iperf(net.gateway, ['nsenter', '-t', String(holder.pid), '-n']);
  const lo = await iperf('127.0.0.1', ['env']);
  console.log(
    table([
      ['iperf3 TCP, one stream', 'Gbit/s'],
      ['namespace → host over veth + bridge', veth.toFixed(2)],
      ['host loopback', lo.toFixed(2)],
      ['ratio veth / loopback', (veth / lo).toFixed(2)],
    ]),
  );

  // ------------------------------------------------------------ 3. inetd
  log(`inetd: ${CONNS} connections, concurrency ${CONC}, busybox cat, network none`);
  const spec = defaultSpec();
  spec.process!.terminal = false;
  spec.process!.args = ['cat'];
  spec.root = { path: ROOTFS, readonly: true };
  const srv = inetd({ spec, network: 'none', socket: { type: 'tcp', host: '127.0.0.1', port: 0 }, concurrency: CONC });
  cleanups.push(() => srv.close());
  const lat: number[] = [];
  const one = (i: number) =>
    new Promise<void>((resolve, reject) => {
      const t0 = process.hrtime.bigint();
      const s = connect(srv.socket.port!, '127.0.0.1');
      let got = '';
      s.setTimeout(30_000, () => s.destroy(new Error('timeout')));
      s.on('data', (d: Buffer) => (got += d));
      s.on('end', () => (got === `ping ${i}\n` ? (lat.push(ms(t0)), resolve()) : reject(new Error(`bad echo ${JSON.stringify(got)}`))));
      s.on('error', reject);
      s.end(`ping ${i}\n`);
    });
  const t0 = process.hrtime.bigint();
  let next = 0;
  await Promise.all(
    Array.from({ length: CONC * 2 }, async () => {
      while (next < CONNS) await one(next++);
    }),
  );
  const total = ms(t0);
  await srv.close(); // the last containers' bookkeeping
  const sorted = [...lat].sort((a, b) => a - b);
  console.log(
    table([
      ['inetd echo (one container per connection)', 'value'],
      ['connections/s', ((CONNS * 1000) / total).toFixed(1)],
      ['latency median ms', fmt(median(lat))],
      ['latency p90 ms', fmt(quantile(sorted, 0.9))],
      ['served / failed', `${srv.served} / ${srv.failed}`],
    ]),
  );
} finally {
  await cleanup();
}
