// Shared by the net*.test.ts files: temporary state roots, networks on
// random subnets of 198.18.0.0/16, "client" namespaces on 198.19.0.0/16
// made with ip(8), and a static listen-fd shim for the busybox rootfs.
// Everything made here is removed in the test's teardown.
import type { Test } from 'tap';
import { execa } from 'execa';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Socket } from 'node:net';
import { Networks, type Network } from '../../src/netns/index.js';
import type { Container } from '../../src/index.js';

export const rand = (n: number) => Math.floor(Math.random() * n);
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A state root /tmp/bth-net-*, removed (after its networks) at teardown. */
export function tmpRoot(t: Test): { root: string; nets: Networks } {
  const root = mkdtempSync('/tmp/bth-net-');
  const nets = new Networks(root);
  t.teardown(async () => {
    for (const n of nets.list()) await nets.remove(n.name, { force: true }).catch((e) => t.comment(`remove ${n.name}: ${e}`));
    rmSync(root, { recursive: true, force: true });
  });
  return { root, nets };
}

/** A network on a random free /24 of 198.18.0.0/16 (other test runs may hold some). */
export async function randomNetwork(nets: Networks, name: string, extra: { prefix?: number; subnet6?: boolean } = {}): Promise<Network> {
  const prefix = extra.prefix ?? 24;
  for (let i = 0; ; i++) {
    const third = rand(256);
    const subnet = `198.18.${third}.0/${prefix}`;
    try {
      return await nets.ensure({ name, subnet, ...(extra.subnet6 ? { subnet6: `fd00:b7:${third.toString(16)}::/64` } : {}) });
    } catch (e) {
      if ((e as { code?: string }).code !== 'EEXIST' || i > 30) throw e;
    }
  }
}

export interface Client {
  ns: string;
  /** The host's address on the client's link (what the client connects to). */
  hostIp: string;
  clientIp: string;
  link: string;
  /** Runs a Node script inside the client namespace; resolves with its stdout. */
  node(script: string, timeoutMs?: number): Promise<string>;
}

/**
 * A client "host": a named netns bth-cli-* joined to the host by a veth
 * (bthc*) with a /30 of 198.19.0.0/16 and no default route, so it reaches
 * only the host's end of its link. Forwarding is turned on for that host
 * end only, so DNAT'd traffic may be routed on to a bridge.
 */
export async function clientNs(t: Test): Promise<Client> {
  const tag = `${process.pid.toString(36)}${rand(1e6).toString(36)}`;
  const ns = `bth-cli-${tag}`;
  const link = `bthc${tag}`.slice(0, 15);
  const base = rand(16384) * 4;
  const hostIp = `198.19.${base >> 8}.${(base & 255) + 1}`;
  const clientIp = `198.19.${base >> 8}.${(base & 255) + 2}`;
  const ip = (...a: string[]) => execa('ip', a);
  t.teardown(async () => {
    await ip('link', 'del', link).catch(() => {});
    await ip('netns', 'del', ns).catch(() => {});
  });
  await ip('netns', 'add', ns);
  await ip('link', 'add', link, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns);
  await ip('addr', 'add', `${hostIp}/30`, 'dev', link);
  await ip('link', 'set', link, 'up');
  writeFileSync(`/proc/sys/net/ipv4/conf/${link}/forwarding`, '1');
  await ip('-n', ns, 'addr', 'add', `${clientIp}/30`, 'dev', 'eth0');
  await ip('-n', ns, 'link', 'set', 'eth0', 'up');
  await ip('-n', ns, 'link', 'set', 'lo', 'up');
  return {
    ns,
    hostIp,
    clientIp,
    link,
    node: async (script, timeoutMs = 10_000) =>
      (await execa('ip', ['netns', 'exec', ns, process.execPath, '--input-type=module', '-e', script], { timeout: timeoutMs, stripFinalNewline: false })).stdout,
  };
}

/** A Node script (for Client.node) that fetches a URL and prints the body. */
export const fetchScript = (url: string) =>
  `const r = await fetch(${JSON.stringify(url)}, { signal: AbortSignal.timeout(5000) }); process.stdout.write(await r.text());`;

/** Collects a container's stdout and stderr. */
export function output(c: Container): { text: () => string } {
  let s = '';
  const on = (x?: Socket) => x?.on('data', (d: Buffer) => (s += d.toString()));
  on(c.stdout);
  on(c.stderr);
  return { text: () => s };
}

/** Polls until fn() is truthy (at most `ms`). */
export async function until<T>(fn: () => T | Promise<T>, ms = 5000, what = 'condition'): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

// A static helper for the busybox rootfs (which has no UDP server):
//   sd-accept PROG ARGS...  listen-fd server: checks LISTEN_FDS/LISTEN_PID;
//                           each connection on fd 3 runs PROG with it as
//                           stdin and stdout (busybox httpd -i does HTTP);
//                           a datagram socket at fd 3 is answered "pong DATA"
//   sd-accept -u PORT       a UDP server of its own on PORT: "pong DATA"
const SHIM = String.raw`
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
static int pong(int fd) {
  char buf[600], out[700];
  for (;;) {
    struct sockaddr_storage peer;
    socklen_t len = sizeof peer;
    ssize_t n = recvfrom(fd, buf, 512, 0, (struct sockaddr *)&peer, &len);
    if (n < 0) continue;
    int m = snprintf(out, sizeof out, "pong %.*s\n", (int)n, buf);
    sendto(fd, out, m, 0, (struct sockaddr *)&peer, len);
  }
}
int main(int argc, char **argv) {
  if (argc == 3 && !strcmp(argv[1], "-u")) {
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons(atoi(argv[2]));
    if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0) { perror("bind"); return 1; }
    return pong(fd);
  }
  const char *n = getenv("LISTEN_FDS"), *p = getenv("LISTEN_PID");
  if (argc < 2 || !n || !p || atoi(p) != getpid() || atoi(n) < 1) {
    fprintf(stderr, "sd-accept: no LISTEN_FDS for pid %d\n", getpid());
    return 2;
  }
  fprintf(stderr, "sd-accept: LISTEN_FDS=%s LISTEN_FDNAMES=%s\n", n, getenv("LISTEN_FDNAMES"));
  int type = 0;
  socklen_t tl = sizeof type;
  getsockopt(3, SOL_SOCKET, SO_TYPE, &type, &tl);
  if (type == SOCK_DGRAM) return pong(3);
  signal(SIGCHLD, SIG_IGN);
  for (;;) {
    int c = accept(3, 0, 0);
    if (c < 0) continue;
    if (fork() == 0) {
      dup2(c, 0);
      dup2(c, 1);
      close(c);
      close(3);
      execv(argv[1], argv + 1);
      _exit(127);
    }
    close(c);
  }
}
`;

/** Compiles the shim into a /tmp/bth-shim-* directory (bind it at /mnt); removed at teardown. */
export async function listenFdShim(t: Test): Promise<string> {
  const dir = mkdtempSync('/tmp/bth-shim-');
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'sd-accept.c'), SHIM);
  await execa('cc', ['-static', '-O2', '-o', join(dir, 'sd-accept'), join(dir, 'sd-accept.c')]);
  return dir;
}
