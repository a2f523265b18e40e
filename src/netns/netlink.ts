// A NETLINK_ROUTE socket bound to one network namespace, with the
// addon's link, address and route calls on it (native/addon/netlink.cc).
import { closeSync, fstatSync, openSync, statSync } from 'node:fs';
import { BerthError } from '../runtime/errors.js';
import { native, type LinkAddOptions, type LinkInfo, type LinkSetOptions } from '../native.js';

export class Netlink {
  private constructor(private fd: number) {}

  /** A socket in this process's own namespace. */
  static host(): Netlink {
    return new Netlink(native().netlinkOpen());
  }

  /** A socket in the namespace of a netns fd (the fd stays the caller's). */
  static in(netnsFd: number): Netlink {
    return new Netlink(native().netlinkOpen(netnsFd));
  }

  get(link: string | number): LinkInfo | null {
    return native().linkGet(this.fd, link);
  }

  list(): LinkInfo[] {
    return native().linkList(this.fd);
  }

  add(opts: LinkAddOptions): void {
    native().linkAdd(this.fd, opts);
  }

  set(link: string | number, opts: LinkSetOptions): void {
    native().linkSet(this.fd, link, opts);
  }

  /** False if there was no such link. */
  del(link: string | number): boolean {
    return native().linkDel(this.fd, link);
  }

  addr(link: string | number, address: string, prefixLen: number): void {
    native().addrAdd(this.fd, link, address, prefixLen);
  }

  route(r: { dst?: string; prefixLen?: number; gateway?: string; link?: string | number; family?: 4 | 6 }): void {
    native().routeAdd(this.fd, r);
  }

  close(): void {
    if (this.fd >= 0) native().close(this.fd);
    this.fd = -1;
  }
}

/**
 * Runs fn with the net namespace fd of a process (/proc/<pid>/ns/net),
 * closed afterwards. Refuses a process in this process's own namespace, so
 * a container's eth0 and routes can never land on the host.
 */
export function withNetns<T>(pid: number, fn: (netnsFd: number) => T): T {
  const fd = openSync(`/proc/${pid}/ns/net`, 'r');
  try {
    const [theirs, ours] = [fstatSync(fd), statSync('/proc/self/ns/net')];
    if (theirs.ino === ours.ino && theirs.dev === ours.dev)
      throw new BerthError(`EINVAL: process ${pid} is in the host's network namespace, not a namespace of its own`, { code: 'EINVAL', step: 'attach network' });
    return fn(fd);
  } finally {
    closeSync(fd);
  }
}

/** Runs fn with a netlink socket in the namespace of netnsFd, closed afterwards. */
export function inNetns<T>(netnsFd: number, fn: (nl: Netlink) => T): T {
  const nl = Netlink.in(netnsFd);
  try {
    return fn(nl);
  } finally {
    nl.close();
  }
}

/** Runs fn with a netlink socket in this process's namespace, closed afterwards. */
export function onHost<T>(fn: (nl: Netlink) => T): T {
  const nl = Netlink.host();
  try {
    return fn(nl);
  } finally {
    nl.close();
  }
}
