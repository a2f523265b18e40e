// NAT and published ports in nftables, in berth's own table (inet berth).
//
// Each network and each container that publishes ports owns a few base
// chains of that table, named from the state root (names.ts), and every
// change is one `nft -f -` transaction that defines the owner's chains
// whole (add, flush, rules): a network or container appears or disappears
// atomically, and several berth roots (processes, test runs) share the
// table without rewriting each other's rules. The table itself is deleted
// with its last chain; adding and that check run under one machine-wide
// lock (LOCK), because the table is machine-wide too.
//
// Published ports are DNAT in two chains: prerouting (traffic from other
// hosts and namespaces) and output (traffic the host itself makes). Both
// match `fib daddr type local`, so any of the host's addresses works,
// 127.0.0.1 included: the network's bridge gets route_localnet=1 and its
// postrouting chain masquerades loopback-sourced packets leaving through
// the bridge (what Docker does without its userland proxy).
import { execa } from 'execa';
import { BerthError } from '../runtime/errors.js';
import type { PortMapping } from './ipam.js';
import { withLock } from './lock.js';
import { NFT_FAMILY, NFT_TABLE } from './names.js';

export const LOCK = '/run/lock/berth-nft.lock';

const T = `${NFT_FAMILY} ${NFT_TABLE}`;

export interface NetworkRules {
  /** Chain prefix (names.ts networkChains). */
  chains: string;
  bridge: string;
  subnet: string;
  masquerade: boolean;
}

export interface ContainerRules {
  chains: string;
  ip: string;
  ports: PortMapping[];
}

const chain = (name: string, hook: string, priority: string | number, kind = 'nat') => [
  `add chain ${T} ${name} { type ${kind} hook ${hook} priority ${priority}; policy accept; }`,
  `flush chain ${T} ${name}`,
];

export const networkChainNames = (prefix: string) => [`${prefix}_post`];
export const containerChainNames = (prefix: string) => [`${prefix}_pre`, `${prefix}_out`];

/** The network's chain: masquerade for traffic from the subnet that leaves it, for hairpin DNAT, and for loopback-sourced DNAT. */
export function networkScript(r: NetworkRules): string {
  const [post] = networkChainNames(r.chains) as [string];
  const lines = [`add table ${T}`, ...chain(post, 'postrouting', 'srcnat')];
  if (r.masquerade) lines.push(`add rule ${T} ${post} ip saddr ${r.subnet} ip daddr != ${r.subnet} masquerade`);
  // Hairpin: a container reaching a published port of its own network through a host address.
  lines.push(`add rule ${T} ${post} oifname "${r.bridge}" ip saddr ${r.subnet} ct status dnat masquerade`);
  lines.push(`add rule ${T} ${post} oifname "${r.bridge}" ip saddr 127.0.0.0/8 masquerade`);
  return lines.join('\n') + '\n';
}

function dnat(chainName: string, ip: string, p: PortMapping): string {
  const dst = p.hostIp ? `ip daddr ${p.hostIp}` : 'fib daddr type local';
  return `add rule ${T} ${chainName} meta nfproto ipv4 ${dst} ${p.protocol} dport ${p.hostPort} dnat ip to ${ip}:${p.containerPort}`;
}

/** The container's chains: DNAT of each published port, for other hosts (prerouting) and for the host (output). */
export function containerScript(r: ContainerRules): string {
  const [pre, out] = containerChainNames(r.chains) as [string, string];
  const lines = [`add table ${T}`, ...chain(pre, 'prerouting', 'dstnat'), ...chain(out, 'output', -100)];
  for (const p of r.ports) lines.push(dnat(pre, r.ip, p), dnat(out, r.ip, p));
  return lines.join('\n') + '\n';
}

/** Deletes chains whether or not they exist (`add` first: nft 1.0.6 has no `destroy`). */
export function deleteScript(chains: string[]): string {
  const lines = [`add table ${T}`];
  for (const c of chains) lines.push(`add chain ${T} ${c}`, `flush chain ${T} ${c}`, `delete chain ${T} ${c}`);
  return lines.join('\n') + '\n';
}

async function nft(args: string[], input: string | undefined, step: string): Promise<string> {
  try {
    const r = await execa('nft', args, { input, stdin: input === undefined ? 'ignore' : 'pipe' });
    return r.stdout;
  } catch (e) {
    const err = e as { code?: string; stderr?: string; shortMessage?: string };
    if (err.code === 'ENOENT')
      throw new BerthError(`ENOENT: nft not found (${step}): install Debian's nftables`, { code: 'ENOENT', syscall: 'spawn nft', step });
    const text = (err.stderr || err.shortMessage || String(e)).trim().split('\n')[0];
    throw new BerthError(`nft ${args.join(' ')}: ${text} (${step})`, { code: 'ERR_NFT', step });
  }
}

/** Applies a script (one transaction). */
export async function nftApply(script: string, step: string): Promise<void> {
  await withLock(LOCK, () => nft(['-f', '-'], script, step));
}

/** Deletes chains, and the table once it holds none. */
export async function nftDelete(chains: string[], step: string): Promise<void> {
  if (!chains.length) return;
  await withLock(LOCK, async () => {
    await nft(['-f', '-'], deleteScript(chains), step);
    const left = await nft(['list', 'table', NFT_FAMILY, NFT_TABLE], undefined, step);
    if (!/^\s*chain /m.test(left) && !/^\s*(set|map) /m.test(left)) await nft(['delete', 'table', NFT_FAMILY, NFT_TABLE], undefined, step);
  });
}
