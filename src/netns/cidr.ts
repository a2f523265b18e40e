// IPv4 and IPv6 addresses and prefixes: parse, format, subnet arithmetic.
// Pure; IPv4 addresses are uint32 numbers, IPv6 addresses bigints.
import { isIPv4, isIPv6 } from 'node:net';
import { BerthError } from '../runtime/errors.js';

export interface Cidr4 {
  family: 4;
  /** The network address (host bits cleared). */
  network: number;
  prefix: number;
}

export interface Cidr6 {
  family: 6;
  network: bigint;
  prefix: number;
}

const invalid = (what: string, text: string, why: string) =>
  new BerthError(`EINVAL: invalid ${what} ${JSON.stringify(text)}: ${why}`, { code: 'EINVAL', step: 'parse address' });

export function parseIp4(s: string): number {
  if (!isIPv4(s)) throw invalid('IPv4 address', s, 'expected four decimal octets');
  return s.split('.').reduce((a, o) => a * 256 + Number(o), 0);
}

export function formatIp4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export function parseIp6(s: string): bigint {
  if (!isIPv6(s) || s.includes('%')) throw invalid('IPv6 address', s, 'not an IPv6 address');
  let text = s;
  // An embedded IPv4 tail (::ffff:1.2.3.4) becomes two groups.
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const n = parseIp4(v4[1]!);
    text = text.slice(0, -v4[1]!.length) + `${(n >>> 16).toString(16)}:${(n & 0xffff).toString(16)}`;
  }
  const [head, tail] = text.split('::') as [string, string | undefined];
  const groups = (p: string) => (p ? p.split(':') : []);
  const h = groups(head);
  const t = tail === undefined ? [] : groups(tail);
  const all = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  return all.reduce((a, g) => (a << 16n) | BigInt(parseInt(g, 16)), 0n);
}

/** RFC 5952 text: lowercase, the longest run of zero groups as "::". */
export function formatIp6(n: bigint): string {
  const g = Array.from({ length: 8 }, (_, i) => Number((n >> BigInt(112 - 16 * i)) & 0xffffn));
  let best = -1, len = 0;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > len && j - i > 1) [best, len] = [i, j - i];
    i = j;
  }
  const hex = g.map((x) => x.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + len).join(':')}`;
}

const mask4 = (prefix: number) => (prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0);
const mask6 = (prefix: number) => (prefix === 0 ? 0n : ((1n << 128n) - 1n) ^ ((1n << BigInt(128 - prefix)) - 1n));

function splitCidr(s: string, max: number): [string, number] {
  const m = /^([^/]+)\/(\d{1,3})$/.exec(s);
  if (!m) throw invalid('CIDR', s, 'expected ADDRESS/PREFIX');
  const prefix = Number(m[2]);
  if (prefix > max) throw invalid('CIDR', s, `prefix longer than ${max}`);
  return [m[1]!, prefix];
}

/** "198.18.5.0/24"; host bits must be zero (so a typo does not silently become another subnet). */
export function parseCidr4(s: string): Cidr4 {
  if (typeof s !== 'string') throw invalid('CIDR', String(s), 'must be a string');
  const [addr, prefix] = splitCidr(s, 32);
  const ip = parseIp4(addr);
  const network = (ip & mask4(prefix)) >>> 0;
  if (network !== ip) throw invalid('CIDR', s, `host bits set (did you mean ${formatIp4(network)}/${prefix}?)`);
  return { family: 4, network, prefix };
}

export function parseCidr6(s: string): Cidr6 {
  if (typeof s !== 'string') throw invalid('CIDR', String(s), 'must be a string');
  const [addr, prefix] = splitCidr(s, 128);
  const ip = parseIp6(addr);
  const network = ip & mask6(prefix);
  if (network !== ip) throw invalid('CIDR', s, `host bits set (did you mean ${formatIp6(network)}/${prefix}?)`);
  return { family: 6, network, prefix };
}

export const formatCidr4 = (c: Cidr4) => `${formatIp4(c.network)}/${c.prefix}`;
export const formatCidr6 = (c: Cidr6) => `${formatIp6(c.network)}/${c.prefix}`;

/** Number of addresses in the subnet. */
export const size4 = (c: Cidr4) => 2 ** (32 - c.prefix);

export const contains4 = (c: Cidr4, ip: number) => ((ip & mask4(c.prefix)) >>> 0) === c.network;

export const overlaps4 = (a: Cidr4, b: Cidr4) => {
  const p = Math.min(a.prefix, b.prefix);
  return ((a.network & mask4(p)) >>> 0) === ((b.network & mask4(p)) >>> 0);
};

/**
 * The addresses a container may get: all but the network and broadcast
 * addresses (for /31 and /32 every address is usable, RFC 3021).
 */
export function hostRange4(c: Cidr4): { first: number; last: number } {
  if (c.prefix >= 31) return { first: c.network, last: c.network + size4(c) - 1 };
  return { first: c.network + 1, last: c.network + size4(c) - 2 };
}

/** The address at host offset `n` of an IPv6 subnet (n-th address). */
export function nth6(c: Cidr6, n: bigint): bigint {
  return c.network | (n & ((1n << BigInt(128 - c.prefix)) - 1n));
}
