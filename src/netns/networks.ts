// Named networks: a bridge, an IPv4 subnet (and optionally an IPv6 one)
// with a gateway on the bridge, masquerade, and the leases of the
// containers on it. Stored under <root>/networks/<name>/:
//   network.json  the definition (written before the bridge is made, so a
//                 crashed ensure is finished or undone by the next call)
//   leases.json   the lease table (ipam.ts), replaced atomically
//   lock          flock for the lease table
// and <root>/networks/lock serialises ensure and remove.
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BerthError } from '../runtime/errors.js';
import { DEFAULT_ROOT } from '../runtime/state.js';
import {
  contains4,
  formatCidr4,
  formatCidr6,
  formatIp4,
  formatIp6,
  hostRange4,
  nth6,
  overlaps4,
  parseCidr4,
  parseCidr6,
  parseIp4,
} from './cidr.js';
import { addLease, allocate, checkTable, emptyTable, reclaim, release, type Lease, type LeaseTable } from './ipam.js';
import { readJson, withLock, writeJson } from './lock.js';
import { bridgeMac, bridgeName, checkIfname, checkNetworkName, networkChains } from './names.js';
import { onHost } from './netlink.js';
import { containerChainNames, networkChainNames, networkScript, nftApply, nftDelete } from './nft.js';
import { describeRoute, hostRoutes, ownerAlive } from './routes.js';

export interface NetworkConfig {
  /** 1-63 of a-z 0-9 _ . - */
  name: string;
  /** IPv4 subnet, e.g. "198.18.5.0/24". */
  subnet: string;
  /** The bridge's address (default: the subnet's first host address). */
  gateway?: string;
  /** Bridge name (default: "bthb" + a hash of the root and the name). */
  bridge?: string;
  /** MTU of the bridge and of the containers' veths (default 1500). */
  mtu?: number;
  /** An IPv6 subnet; a container gets the address at the same offset as its IPv4 one. */
  subnet6?: string;
  /** Masquerade traffic from the subnet that leaves it (default true). */
  masquerade?: boolean;
}

export interface Network {
  name: string;
  subnet: string;
  gateway: string;
  bridge: string;
  mtu: number;
  subnet6?: string;
  gateway6?: string;
  masquerade: boolean;
  /** Prefix of its nftables chains. */
  chains: string;
}

const fail = (code: string, msg: string, path?: string) => new BerthError(`${code}: ${msg}`, { code, step: 'network', path });

export class Networks {
  readonly root: string;

  constructor(root: string = DEFAULT_ROOT) {
    this.root = root;
  }

  private get base() {
    return join(this.root, 'networks');
  }

  private dir(name: string) {
    return join(this.base, name);
  }

  /** Creates the network, or checks that the existing one matches and repairs what is missing (bridge, rules). */
  async ensure(cfg: NetworkConfig): Promise<Network> {
    const want = this.resolve(cfg);
    return withLock(join(this.base, 'lock'), async () => {
      const file = join(this.dir(want.name), 'network.json');
      const have = existsSync(file) ? readJson<Network | null>(file, null) : null;
      if (have) {
        for (const k of ['subnet', 'gateway', 'bridge', 'mtu', 'subnet6', 'masquerade'] as const)
          if (have[k] !== want[k])
            throw fail('EEXIST', `network ${want.name} already exists with ${k} ${JSON.stringify(have[k])}, not ${JSON.stringify(want[k])}`);
      } else {
        this.checkFree(want);
        mkdirSync(this.dir(want.name), { recursive: true, mode: 0o711 });
        writeJson(file, want);
      }
      try {
        await this.realize(want, !have);
      } catch (e) {
        if (!have) await this.unrealize(want);
        throw e;
      }
      return want;
    });
  }

  /** The network's definition; ENOENT names it if there is none. */
  get(name: string): Network {
    checkNetworkName(name);
    const n = readJson<Network | null>(join(this.dir(name), 'network.json'), null);
    if (!n) throw fail('ENOENT', `unknown network ${JSON.stringify(name)} (under ${this.root})`);
    return n;
  }

  list(): Network[] {
    if (!existsSync(this.base)) return [];
    return readdirSync(this.base)
      .filter((n) => existsSync(join(this.dir(n), 'network.json')))
      .sort()
      .map((n) => this.get(n));
  }

  /**
   * Removes the bridge, the rules and the record. Refuses (EBUSY) while a
   * living container holds an address, unless `force`.
   */
  async remove(name: string, opts: { force?: boolean } = {}): Promise<void> {
    const net = this.get(name);
    await withLock(join(this.base, 'lock'), async () => {
      await this.withLeases(net, async (table) => {
        const live = table.leases;
        if (live.length && !opts.force)
          throw fail('EBUSY', `network ${name} is in use by container${live.length > 1 ? 's' : ''} ${live.map((l) => l.id).join(', ')}`);
        for (const l of live) await this.cleanLease(l);
        return { table: emptyTable(), result: undefined };
      });
      await this.unrealize(net);
    });
  }

  /** Reclaims the leases (address, veth, rules) of containers that died without a delete. */
  async gc(): Promise<Lease[]> {
    const out: Lease[] = [];
    for (const net of this.list()) await this.withLeases(net, async (table) => ({ table, result: undefined }), out);
    return out;
  }

  /**
   * Gives a container an address on the network: under the lock, dead
   * owners' leases are reclaimed first, then the lease is recorded before
   * anything is made for it (so a crash leaves a record the next call cleans).
   */
  async acquire(net: Network, owner: Omit<Lease, 'ip' | 'ip6'>, want?: string): Promise<Lease> {
    return this.withLeases(net, async (table) => {
      if (table.leases.some((l) => l.id === owner.id))
        throw fail('EEXIST', `container ${owner.id} already has an address on network ${net.name}`);
      const ip = allocate(table, { subnet: parseCidr4(net.subnet), reserved: [net.gateway], want, network: net.name });
      const lease: Lease = { ...owner, ip };
      if (net.subnet6) lease.ip6 = formatIp6(this.offset6(net, ip));
      return { table: addLease(table, lease), result: lease };
    });
  }

  /** Drops container id's lease (of that owner pid). */
  async releaseLease(net: Network, id: string, pid: number): Promise<void> {
    await this.withLeases(net, async (table) => ({ table: release(table, id, pid).table, result: undefined }));
  }

  /** The live leases (read without the lock: a snapshot). */
  leases(net: Network): Lease[] {
    const t = this.readTable(net);
    return reclaim(t, (l) => ownerAlive(l.pid, l.startTime)).table.leases;
  }

  /** Fails early, without reserving, if the network has no free address. */
  checkFreeAddress(net: Network, want?: string): void {
    allocate({ ...this.readTable(net), leases: this.leases(net) }, { subnet: parseCidr4(net.subnet), reserved: [net.gateway], want, network: net.name });
  }

  /** The IPv6 address at the same host offset as an IPv4 one. */
  offset6(net: Network, ip: string): bigint {
    const c = parseCidr6(net.subnet6!);
    return nth6(c, BigInt(parseIp4(ip) - parseCidr4(net.subnet).network));
  }

  // ---------------------------------------------------------------- internals

  private resolve(cfg: NetworkConfig): Network {
    const name = checkNetworkName(cfg?.name);
    const subnet = parseCidr4(cfg.subnet);
    if (subnet.prefix > 30) throw fail('EINVAL', `subnet ${cfg.subnet} of network ${name} is too small: it needs a gateway and one container (at most /30)`);
    const { first, last } = hostRange4(subnet);
    const gateway = cfg.gateway ?? formatIp4(first);
    const gw = parseIp4(gateway);
    if (!contains4(subnet, gw) || gw < first || gw > last) throw fail('EINVAL', `gateway ${gateway} is not a host address of subnet ${cfg.subnet}`);
    const mtu = cfg.mtu ?? 1500;
    if (!Number.isInteger(mtu) || mtu < 576 || mtu > 65535) throw fail('EINVAL', `mtu ${cfg.mtu} of network ${name}: must be 576-65535`);
    const net: Network = {
      name,
      subnet: formatCidr4(subnet),
      gateway,
      bridge: checkIfname(cfg.bridge ?? bridgeName(this.root, name), 'bridge name'),
      mtu,
      masquerade: cfg.masquerade ?? true,
      chains: networkChains(this.root, name),
    };
    if (cfg.subnet6 !== undefined) {
      const s6 = parseCidr6(cfg.subnet6);
      if (s6.prefix > 128 - (32 - subnet.prefix)) throw fail('EINVAL', `subnet6 ${cfg.subnet6} is smaller than subnet ${cfg.subnet}`);
      net.subnet6 = formatCidr6(s6);
      net.gateway6 = formatIp6(nth6(s6, BigInt(gw - subnet.network)));
    }
    return net;
  }

  /** A new network must not overlap another of ours, or a route of the host, and its bridge name must be free. */
  private checkFree(net: Network): void {
    const subnet = parseCidr4(net.subnet);
    for (const other of this.list())
      if (overlaps4(subnet, parseCidr4(other.subnet))) throw fail('EEXIST', `subnet ${net.subnet} overlaps network ${other.name} (${other.subnet})`);
    for (const r of hostRoutes()) if (overlaps4(subnet, r.dst)) throw fail('EEXIST', `subnet ${net.subnet} overlaps the host's route ${describeRoute(r)}`);
    if (onHost((nl) => nl.get(net.bridge))) throw fail('EEXIST', `link ${net.bridge} already exists (bridge of network ${net.name})`);
  }

  /** Makes what is missing: the bridge, its addresses, forwarding, the nftables chains. */
  private async realize(net: Network, fresh: boolean): Promise<void> {
    const made = onHost((nl) => {
      if (nl.get(net.bridge)) return false;
      nl.add({ name: net.bridge, kind: 'bridge', mtu: net.mtu, mac: bridgeMac(this.root, net.name) });
      nl.addr(net.bridge, net.gateway, parseCidr4(net.subnet).prefix);
      if (net.gateway6) nl.addr(net.bridge, net.gateway6, parseCidr6(net.subnet6!).prefix);
      nl.set(net.bridge, { up: true });
      return true;
    });
    if (made || fresh) {
      // Routing in and out of the bridge: per interface, so the host's other interfaces keep their setting.
      const conf = `/proc/sys/net/ipv4/conf/${net.bridge}`;
      writeFileSync(`${conf}/forwarding`, '1');
      writeFileSync(`${conf}/route_localnet`, '1');
    }
    await nftApply(networkScript({ chains: net.chains, bridge: net.bridge, subnet: net.subnet, masquerade: net.masquerade }), `network ${net.name}`);
  }

  private async unrealize(net: Network): Promise<void> {
    await nftDelete(networkChainNames(net.chains), `remove network ${net.name}`);
    onHost((nl) => nl.del(net.bridge));
    rmSync(this.dir(net.name), { recursive: true, force: true });
  }

  private readTable(net: Network): LeaseTable {
    const file = join(this.dir(net.name), 'leases.json');
    return checkTable(readJson<unknown>(file, emptyTable()), file);
  }

  /** Runs fn on the lease table under the network's lock, after reclaiming dead owners' leases; writes what fn returns. */
  private async withLeases<T>(
    net: Network,
    fn: (t: LeaseTable) => Promise<{ table: LeaseTable; result: T }>,
    reclaimed?: Lease[],
  ): Promise<T> {
    const dir = this.dir(net.name);
    const gone = () => !existsSync(join(dir, 'network.json'));
    const unknown = () => fail('ENOENT', `unknown network ${JSON.stringify(net.name)} (under ${this.root})`);
    if (gone()) throw unknown();
    return withLock(join(dir, 'lock'), async () => {
      if (gone()) throw unknown(); // removed while we waited for the lock
      const before = this.readTable(net);
      const { table, dead } = reclaim(before, (l) => ownerAlive(l.pid, l.startTime));
      for (const l of dead) await this.cleanLease(l);
      reclaimed?.push(...dead);
      if (dead.length) writeJson(join(dir, 'leases.json'), table);
      const r = await fn(table);
      if (r.table !== table) writeJson(join(dir, 'leases.json'), r.table);
      return r.result;
    });
  }

  /** Removes what a lease's container had on the host: its veth and its chains. */
  private async cleanLease(l: Lease): Promise<void> {
    onHost((nl) => nl.del(l.link));
    if (l.chains) await nftDelete(containerChainNames(l.chains), `reclaim container ${l.id}`);
  }
}
