// Names berth gives what it makes on the host. Every one starts with
// "bth" (links) or lives in the nftables table "berth", and is derived
// from the state root and the network or container, so two roots (two
// test runs, two users of the library) never pick the same name.
import { createHash } from 'node:crypto';
import { BerthError } from '../runtime/errors.js';

export const NFT_TABLE = 'berth';
export const NFT_FAMILY = 'inet';

/** Longest interface name (IFNAMSIZ - 1). */
export const IFNAME_MAX = 15;

const hash = (...parts: string[]) => createHash('sha256').update(parts.join('\0')).digest('hex');

export const NETWORK_NAME = /^[a-z0-9][a-z0-9_.-]{0,62}$/;

export function checkNetworkName(name: unknown): string {
  if (typeof name !== 'string' || !NETWORK_NAME.test(name))
    throw new BerthError(`EINVAL: invalid network name ${JSON.stringify(name)}: use 1-63 of a-z 0-9 _ . - (starting with a letter or digit)`, {
      code: 'EINVAL',
      step: 'network',
    });
  return name;
}

export function checkIfname(name: unknown, what: string): string {
  if (typeof name !== 'string' || !/^[A-Za-z0-9_.-]{1,15}$/.test(name) || name === '.' || name === '..')
    throw new BerthError(`EINVAL: invalid ${what} ${JSON.stringify(name)}: an interface name is 1-15 of A-Z a-z 0-9 _ . -`, {
      code: 'EINVAL',
      step: 'network',
    });
  return name;
}

/** The default bridge of a network: "bthb" + 10 hex digits. */
export const bridgeName = (root: string, network: string) => `bthb${hash(root, 'network', network).slice(0, 10)}`;

/** The host end of a container's veth on its n-th network: "bthv" + 9 hex + n (0-f). */
export const vethName = (root: string, id: string, n: number) => `bthv${hash(root, 'container', id).slice(0, 9)}${n.toString(16)}`;

/** nftables chain prefixes (identifiers: letters, digits, underscores). */
export const networkChains = (root: string, network: string) => `n_${hash(root, 'network', network).slice(0, 12)}`;
export const containerChains = (root: string, id: string) => `c_${hash(root, 'container', id).slice(0, 12)}`;

/** A locally administered unicast MAC that embeds an IPv4 address (02:42 + the four octets), as Docker does. */
export function macFor(ip: string): string {
  return ['02', '42', ...ip.split('.').map((o) => Number(o).toString(16).padStart(2, '0'))].join(':');
}

/** A stable locally administered MAC for a bridge, so it does not change as ports come and go. */
export function bridgeMac(root: string, network: string): string {
  const h = hash(root, 'bridge-mac', network);
  return ['02', h.slice(0, 2), h.slice(2, 4), h.slice(4, 6), h.slice(6, 8), h.slice(8, 10)].join(':');
}
