// Giving a container its network. Four modes:
//   host       the host's namespace (the spec's network namespace is dropped)
//   none       a new namespace with only loopback, up
//   bridge     a new namespace with a veth on each named network: an
//              address, a default route via the first network's gateway,
//              masquerade (the network's), published ports (DNAT)
//   container  another container's namespace (a pod: they share localhost)
//
// prepare() runs before the container exists and checks everything that
// can be checked (unknown network, port in use, no free address); nothing
// is made yet except the port reservations, which are sockets. attach()
// runs once the container's process exists and waits to exec; detach()
// undoes it, and a lease left by a crash is reclaimed by the next call.
import { BerthError } from '../runtime/errors.js';
import type { Spec } from '../spec/types.js';
import { native } from '../native.js';
import { parseCidr4, parseCidr6, parseIp4 } from './cidr.js';
import { publishedPorts, type Lease, type PortMapping } from './ipam.js';
import { containerChains, macFor, vethName } from './names.js';
import { inNetns, onHost, withNetns } from './netlink.js';
import { Networks, type Network } from './networks.js';
import { containerChainNames, containerScript, nftApply, nftDelete } from './nft.js';
import { ownerAlive } from './routes.js';
import { processStartTime } from '../runtime/state.js';

export interface PublishOption {
  hostPort: number;
  /** Default: hostPort. */
  containerPort?: number;
  /** Default 'tcp'. */
  protocol?: 'tcp' | 'udp';
  /** Only traffic to this host address (default: any of the host's addresses, 127.0.0.1 included). */
  hostIp?: string;
}

export interface BridgeNetworkOption {
  mode: 'bridge';
  /** Names of networks (Networks.ensure), or { name, ip } for a fixed address. The first gives the default route. */
  networks: (string | { name: string; ip?: string })[];
  /** Host ports forwarded to the container's address on the first network. */
  publish?: PublishOption[];
  /** The networks' state root (default /run/berth). */
  root?: string;
}

export type NetworkOption =
  | 'host'
  | 'none'
  | { mode: 'host' }
  | { mode: 'none' }
  | BridgeNetworkOption
  /** A pod: the network namespace of another container (its host pid, or anything with a pid, such as a Container). */
  | { mode: 'container'; container: { pid: number } | number };

export interface NetworkAddress {
  network: string;
  /** The name inside the container: eth0, eth1, ... */
  interface: string;
  ip: string;
  prefixLen: number;
  gateway: string;
  ip6?: string;
  /** The veth's host end. */
  link: string;
}

export interface NetworkInfo {
  mode: 'host' | 'none' | 'bridge' | 'container';
  addresses: NetworkAddress[];
  ports: PortMapping[];
}

const fail = (code: string, msg: string, step = 'network') => new BerthError(`${code}: ${msg}`, { code, step });

function normalizePorts(list: PublishOption[] | undefined): PortMapping[] {
  const seen = new Set<string>();
  return (list ?? []).map((p, i) => {
    const protocol = p.protocol ?? 'tcp';
    const containerPort = p.containerPort ?? p.hostPort;
    const where = `publish[${i}]`;
    if (protocol !== 'tcp' && protocol !== 'udp') throw fail('EINVAL', `${where}.protocol: must be "tcp" or "udp"`);
    for (const [k, v] of [['hostPort', p.hostPort], ['containerPort', containerPort]] as const)
      if (!Number.isInteger(v) || v < 1 || v > 65535) throw fail('EINVAL', `${where}.${k}: ${JSON.stringify(v)} is not a port (1-65535)`);
    if (p.hostIp !== undefined) parseIp4(p.hostIp);
    const key = `${protocol}/${p.hostPort}`;
    if (seen.has(key)) throw fail('EINVAL', `${where}: port ${key} is published twice`);
    seen.add(key);
    return { protocol, hostPort: p.hostPort, containerPort, ...(p.hostIp ? { hostIp: p.hostIp } : {}) };
  });
}

/** Holds each published host port with a bound socket, so no other program (or berth root) takes it meanwhile. */
function reservePorts(ports: PortMapping[]): number[] {
  const fds: number[] = [];
  try {
    for (const p of ports) {
      try {
        fds.push(native().socketBind({ type: p.protocol === 'tcp' ? 'stream' : 'dgram', family: 'ipv4', address: p.hostIp ?? '0.0.0.0', port: p.hostPort }).fd);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code ?? 'EIO';
        if (code === 'EADDRINUSE') throw fail(code, `port ${p.protocol}/${p.hostPort} is already in use on the host`, 'publish ports');
        throw fail(code, `cannot reserve port ${p.protocol}/${p.hostPort}: ${(e as Error).message}`, 'publish ports');
      }
    }
  } catch (e) {
    for (const fd of fds) native().close(fd);
    throw e;
  }
  return fds;
}

export class NetworkAttachment {
  readonly info: NetworkInfo;
  private pid = 0;
  private leases: { net: Network; lease: Lease }[] = [];
  private chains?: string;
  private portFds: number[] = [];
  private done = false;

  private constructor(
    private opt: Exclude<NetworkOption, string>,
    private id: string,
    private store?: Networks,
    private nets: { net: Network; ip?: string }[] = [],
    ports: PortMapping[] = [],
  ) {
    this.info = { mode: opt.mode, addresses: [], ports };
  }

  /** Checks the option against the networks on disk and reserves published ports. Makes nothing else. */
  static prepare(option: NetworkOption, id: string): NetworkAttachment {
    const opt: Exclude<NetworkOption, string> = typeof option === 'string' ? ({ mode: option } as { mode: 'host' | 'none' }) : option;
    switch (opt?.mode) {
      case 'host':
      case 'none':
        return new NetworkAttachment(opt, id);
      case 'container': {
        const pid = typeof opt.container === 'number' ? opt.container : opt.container?.pid;
        if (!Number.isInteger(pid) || pid! <= 0) throw fail('EINVAL', 'network.container: needs a running container (or its host pid)');
        return new NetworkAttachment(opt, id);
      }
      case 'bridge': {
        if (!Array.isArray(opt.networks) || !opt.networks.length) throw fail('EINVAL', 'network.networks: name at least one network');
        if (opt.networks.length > 16) throw fail('EINVAL', 'network.networks: at most 16 networks');
        const store = new Networks(opt.root);
        const nets = opt.networks.map((n) => {
          const { name, ip } = typeof n === 'string' ? { name: n, ip: undefined } : n;
          const net = store.get(name);
          store.checkFreeAddress(net, ip);
          return { net, ip };
        });
        if (new Set(nets.map((n) => n.net.name)).size !== nets.length) throw fail('EINVAL', 'network.networks: a network is named twice');
        const ports = normalizePorts(opt.publish);
        for (const { key, lease } of publishedPorts({ leases: store.list().flatMap((n) => store.leases(n)) }))
          if (ports.some((p) => `${p.protocol}/${p.hostPort}` === key))
            throw fail('EADDRINUSE', `port ${key} is already published by container ${lease.id}`, 'publish ports');
        const a = new NetworkAttachment(opt, id, store, nets, ports);
        a.portFds = reservePorts(ports);
        return a;
      }
      default:
        throw fail('EINVAL', `network: unknown mode ${JSON.stringify((opt as { mode?: unknown })?.mode)} (host, none, bridge or container)`);
    }
  }

  /** The spec with the network namespace the mode needs (a copy; the input is not changed). */
  adjustSpec(spec: Spec): Spec {
    const s: Spec = { ...spec, linux: { ...spec.linux, namespaces: (spec.linux?.namespaces ?? []).filter((n) => n.type !== 'network') } };
    const given = spec.linux?.namespaces?.find((n) => n.type === 'network');
    if (this.opt.mode === 'host') return s;
    if (this.opt.mode === 'container') {
      const pid = typeof this.opt.container === 'number' ? this.opt.container : this.opt.container.pid;
      s.linux!.namespaces!.push({ type: 'network', path: `/proc/${pid}/ns/net` });
      return s;
    }
    if (given?.path) throw fail('EINVAL', `network: mode ${this.opt.mode} needs a new network namespace, but the spec joins ${given.path}`);
    s.linux!.namespaces!.push({ type: 'network' });
    return s;
  }

  /** Sets up the network of the container whose process (host pid) waits to exec. Undoes itself on failure. */
  async attach(pid: number): Promise<void> {
    this.pid = pid;
    if (this.opt.mode === 'host' || this.opt.mode === 'container') return;
    if (this.opt.mode === 'none') {
      withNetns(pid, (ns) => inNetns(ns, (nl) => nl.set('lo', { up: true })));
      return;
    }
    try {
      await this.attachBridge(pid);
    } catch (e) {
      await this.detach();
      throw e;
    }
  }

  private async attachBridge(pid: number): Promise<void> {
    const store = this.store!;
    const startTime = processStartTime(pid);
    if (!startTime || !ownerAlive(pid, startTime)) throw fail('ESRCH', `the container's process ${pid} is gone`, 'attach network');
    const root = store.root;
    if (this.info.ports.length) this.chains = containerChains(root, this.id);
    for (const [i, { net, ip }] of this.nets.entries()) {
      const owner = { id: this.id, pid, startTime, link: vethName(root, this.id, i) };
      const first = i === 0 && this.chains ? { chains: this.chains, ports: this.info.ports } : {};
      const lease = await store.acquire(net, { ...owner, ...first }, ip);
      this.leases.push({ net, lease });
      this.info.addresses.push({
        network: net.name,
        interface: `eth${i}`,
        ip: lease.ip,
        prefixLen: parseCidr4(net.subnet).prefix,
        gateway: net.gateway,
        ...(lease.ip6 ? { ip6: lease.ip6 } : {}),
        link: lease.link,
      });
    }
    withNetns(pid, (ns) => {
      onHost((host) => {
        for (const [i, { net, lease }] of this.leases.entries())
          host.add({
            name: lease.link,
            kind: 'veth',
            mtu: net.mtu,
            master: net.bridge,
            up: true,
            peer: { name: `eth${i}`, netnsFd: ns, mtu: net.mtu, mac: macFor(lease.ip) },
          });
      });
      inNetns(ns, (nl) => {
        nl.set('lo', { up: true });
        for (const [i, { net, lease }] of this.leases.entries()) {
          const dev = `eth${i}`;
          nl.set(dev, { up: true });
          nl.addr(dev, lease.ip, parseCidr4(net.subnet).prefix);
          if (lease.ip6) nl.addr(dev, lease.ip6, parseCidr6(net.subnet6!).prefix);
        }
        const first = this.leases[0]!.net;
        nl.route({ gateway: first.gateway });
        if (first.gateway6) nl.route({ gateway: first.gateway6 });
      });
    });
    if (this.chains) await nftApply(containerScript({ chains: this.chains, ip: this.leases[0]!.lease.ip, ports: this.info.ports }), `publish ports of ${this.id}`);
  }

  /** Removes the rules, the veths and the leases, and frees the reserved ports. Safe to call more than once. */
  async detach(): Promise<void> {
    if (this.done) return;
    this.done = true;
    const errors: unknown[] = [];
    const step = async (fn: () => unknown) => {
      try {
        await fn();
      } catch (e) {
        errors.push(e);
      }
    };
    if (this.chains) await step(() => nftDelete(containerChainNames(this.chains!), `unpublish ports of ${this.id}`));
    if (this.leases.length) await step(() => onHost((nl) => this.leases.forEach(({ lease }) => nl.del(lease.link))));
    for (const { net } of this.leases) await step(() => this.store!.releaseLease(net, this.id, this.pid));
    for (const fd of this.portFds) native().close(fd);
    this.portFds = [];
    if (errors.length) throw errors[0];
  }
}
