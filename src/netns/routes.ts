// The host's IPv4 routes (/proc/net/route), to refuse a subnet that is
// already in use on the machine, and the owner check for leases.
import { readFileSync } from 'node:fs';
import { formatIp4, type Cidr4 } from './cidr.js';

export interface HostRoute {
  iface: string;
  dst: Cidr4;
}

/** /proc/net/route's hex is the address in network byte order, read as a little-endian word. */
const le32 = (hex: string) => {
  const n = parseInt(hex, 16);
  return (((n & 0xff) << 24) | ((n & 0xff00) << 8) | ((n >>> 8) & 0xff00) | (n >>> 24)) >>> 0;
};

export function parseRouteTable(text: string): HostRoute[] {
  const out: HostRoute[] = [];
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 8) continue;
    const mask = le32(f[7]!);
    const prefix = mask.toString(2).replace(/0/g, '').length;
    out.push({ iface: f[0]!, dst: { family: 4, network: le32(f[1]!), prefix } });
  }
  return out;
}

/** The host's routes other than default routes. */
export function hostRoutes(): HostRoute[] {
  try {
    return parseRouteTable(readFileSync('/proc/net/route', 'utf8')).filter((r) => r.dst.prefix > 0);
  } catch {
    return [];
  }
}

export const describeRoute = (r: HostRoute) => `${formatIp4(r.dst.network)}/${r.dst.prefix} on ${r.iface}`;

/**
 * True while the process that owns a lease runs: same pid, same start time
 * (so a recycled pid does not count), and not a zombie (its namespaces are
 * already gone).
 */
export function ownerAlive(pid: number, startTime: string): boolean {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return false;
  }
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return f[0] !== 'Z' && f[0] !== 'X' && f[19] === startTime;
}
