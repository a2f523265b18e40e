// Address allocation for one network, as pure functions over its lease
// table. The table is read and written under the network's lock by
// store.ts; here nothing does I/O, so the rules are unit-tested directly.
import { BerthError } from '../runtime/errors.js';
import { contains4, formatCidr4, formatIp4, hostRange4, parseIp4, type Cidr4 } from './cidr.js';

/** A published port: host port → container port. */
export interface PortMapping {
  protocol: 'tcp' | 'udp';
  hostPort: number;
  containerPort: number;
  /** Only traffic to this host address (default: any local address). */
  hostIp?: string;
}

/** One address held by a container. */
export interface Lease {
  ip: string;
  ip6?: string;
  /** The container id. */
  id: string;
  /** The owner: the container's process (host pid) and its start time (field 22 of /proc/<pid>/stat). */
  pid: number;
  startTime: string;
  /** The host end of the container's veth on this network. */
  link: string;
  /** Prefix of the container's nftables chains (present when it publishes ports). */
  chains?: string;
  ports?: PortMapping[];
}

export interface LeaseTable {
  /** The last address handed out: allocation continues after it, so a released address is not reused at once. */
  cursor?: string;
  leases: Lease[];
}

export const emptyTable = (): LeaseTable => ({ leases: [] });

export interface AllocateInput {
  subnet: Cidr4;
  /** Addresses never handed out (the gateway). */
  reserved: string[];
  /** A fixed address instead of the next free one. */
  want?: string;
  /** Name for errors. */
  network: string;
}

/** Picks a free address: the requested one, or the first free one after the cursor (wrapping around). */
export function allocate(table: LeaseTable, input: AllocateInput): string {
  const { subnet, network } = input;
  const taken = new Set<number>([...table.leases.map((l) => parseIp4(l.ip)), ...input.reserved.map(parseIp4)]);
  const { first, last } = hostRange4(subnet);
  if (input.want !== undefined) {
    const ip = parseIp4(input.want);
    if (!contains4(subnet, ip) || ip < first || ip > last)
      throw new BerthError(`EINVAL: address ${input.want} is not a host address of network ${network} (${formatCidr4(subnet)})`, {
        code: 'EINVAL',
        step: 'allocate address',
      });
    if (taken.has(ip))
      throw new BerthError(`EADDRINUSE: address ${input.want} of network ${network} is in use`, { code: 'EADDRINUSE', step: 'allocate address' });
    return input.want;
  }
  const count = last - first + 1;
  const cursor = table.cursor !== undefined ? parseIp4(table.cursor) : first - 1;
  const start = cursor >= first && cursor <= last ? cursor - first + 1 : 0;
  for (let i = 0; i < count; i++) {
    const ip = first + ((start + i) % count);
    if (!taken.has(ip)) return formatIp4(ip);
  }
  throw new BerthError(`ENOSPC: network ${network} (${formatCidr4(subnet)}) has no free address`, { code: 'ENOSPC', step: 'allocate address' });
}

/** The table with `lease` added and the cursor moved to it. */
export function addLease(table: LeaseTable, lease: Lease): LeaseTable {
  return { cursor: lease.ip, leases: [...table.leases, lease] };
}

/** Splits the table into the leases whose owner lives and those whose owner is gone. */
export function reclaim(table: LeaseTable, alive: (l: Lease) => boolean): { table: LeaseTable; dead: Lease[] } {
  const dead = table.leases.filter((l) => !alive(l));
  return { table: { ...table, leases: table.leases.filter((l) => !dead.includes(l)) }, dead };
}

/** The table without the leases of container `id` (of the given owner pid, if set). */
export function release(table: LeaseTable, id: string, pid?: number): { table: LeaseTable; released: Lease[] } {
  const mine = (l: Lease) => l.id === id && (pid === undefined || l.pid === pid);
  return { table: { ...table, leases: table.leases.filter((l) => !mine(l)) }, released: table.leases.filter(mine) };
}

/** Host ports the table's leases publish, as "tcp/8080". */
export const publishedPorts = (table: LeaseTable) =>
  table.leases.flatMap((l) => (l.ports ?? []).map((p) => ({ key: `${p.protocol}/${p.hostPort}`, lease: l })));

/** Checks a lease table read from disk (a torn or foreign file is an error, not an empty table). */
export function checkTable(v: unknown, file: string): LeaseTable {
  const t = v as LeaseTable;
  if (!t || typeof t !== 'object' || !Array.isArray(t.leases) || !t.leases.every((l) => l && typeof l.ip === 'string' && typeof l.id === 'string'))
    throw new BerthError(`EINVAL: ${file}: not a lease table`, { code: 'EINVAL', step: 'read leases', path: file });
  return t;
}
