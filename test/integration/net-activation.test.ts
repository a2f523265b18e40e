// Socket activation on the real kernel: listen-fd style (sockets passed as
// fds 3.. with LISTEN_FDS), lazily started, to a container with no network
// but loopback; and inetd style, one container per connection.
import t from 'tap';
import { connect } from 'node:net';
import { createSocket } from 'node:dgram';
import { request } from 'node:http';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { activate, inetd } from '../../src/netns/index.js';
import type { Spec } from '../../src/index.js';
import { spec } from '../helpers.js';
import { listenFdShim, sleep } from './net-lib.js';

const withShim = (dir: string) => (s: Spec) => s.mounts!.push({ destination: '/mnt', type: 'bind', source: dir, options: ['rbind', 'ro'] });
const serveHttp = (body: string) => ['sh', '-c', `echo ${body} > /tmp/index.html && exec /mnt/sd-accept /bin/httpd -i -h /tmp`];

function get(opts: { port?: number; socketPath?: string }): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', path: '/', timeout: 5000, ...opts }, (res) => {
      let s = '';
      res.on('data', (d: Buffer) => (s += d.toString()));
      res.on('end', () => resolve(s));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

t.test('listen-fd: a container with only loopback serves HTTP through the passed TCP socket', async (t) => {
  const shim = await listenFdShim(t);
  const a = activate({
    spec: spec(serveHttp('hello-through-fd3'), withShim(shim)),
    network: 'none',
    sockets: [{ type: 'tcp', host: '127.0.0.1', port: 0, name: 'http' }],
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.teardown(() => a.close());
  const c = await a.container;
  let err = '';
  c.stderr!.on('data', (d: Buffer) => (err += d));
  t.equal(a.sockets[0]!.type, 'tcp');
  t.ok(a.sockets[0]!.port! > 0, 'the bound port is known');
  for (let i = 0; i < 3; i++) t.equal(await get({ port: a.sockets[0]!.port }), 'hello-through-fd3\n', `request ${i}`);
  t.match(err, /LISTEN_FDS=1 LISTEN_FDNAMES=http/);
  t.equal(c.network!.mode, 'none');
});

t.test('listen-fd: the environment and fds for TCP, UDP and unix sockets', async (t) => {
  const dir = mkdtempSync('/tmp/bth-act-');
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const a = activate({
    spec: spec(['sh', '-c', 'echo $LISTEN_FDS $LISTEN_PID $LISTEN_FDNAMES; ls /proc/self/fd | sort -n | tr "\\n" " "']),
    network: 'none',
    sockets: [
      { type: 'tcp', host: '127.0.0.1', port: 0, name: 'web' },
      { type: 'udp', host: '127.0.0.1', port: 0, name: 'dns' },
      { type: 'unix', path: join(dir, 'ctl.sock'), name: 'ctl', mode: 0o600 },
    ],
  });
  const c = await a.container;
  let out = '';
  c.stdout!.on('data', (d: Buffer) => (out += d));
  await c.wait();
  await sleep(20);
  const [env, fds] = out.split('\n');
  t.equal(env, '3 1 web:dns:ctl');
  t.match(fds, /^0 1 2 3 4 5 6 $/, 'stdio, the three sockets, and ls\'s own directory fd');
  t.ok(existsSync(join(dir, 'ctl.sock')), 'the unix socket exists while the activation holds it');
  await a.close();
  t.notOk(existsSync(join(dir, 'ctl.sock')), 'and is removed with it');
});

t.test('listen-fd over a unix socket and a UDP socket', async (t) => {
  const shim = await listenFdShim(t);
  const dir = mkdtempSync('/tmp/bth-act-');
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'http.sock');
  const http = activate({ spec: spec(serveHttp('over-unix'), withShim(shim)), network: 'none', sockets: [{ type: 'unix', path }] });
  t.teardown(() => http.close());
  await http.container;
  t.equal(await get({ socketPath: path }), 'over-unix\n');

  const udp = activate({ spec: spec(['/mnt/sd-accept', 'udp'], withShim(shim)), network: 'none', sockets: [{ type: 'udp', host: '127.0.0.1', port: 0 }] });
  t.teardown(() => udp.close());
  await udp.container;
  const reply = await new Promise<string>((resolve, reject) => {
    const s = createSocket('udp4');
    const timer = setTimeout(() => (s.close(), reject(new Error('no reply'))), 4000);
    s.on('message', (m) => (clearTimeout(timer), s.close(), resolve(m.toString())));
    s.send('datagram', udp.sockets[0]!.port!, '127.0.0.1');
  });
  t.equal(reply, 'pong datagram\n');
});

t.test('lazy start: no process until the first connection, which is then served', async (t) => {
  const shim = await listenFdShim(t);
  const a = activate({
    spec: spec(serveHttp('lazily'), withShim(shim)),
    network: 'none',
    lazy: true,
    sockets: [{ type: 'tcp', host: '127.0.0.1', port: 0 }],
  });
  t.teardown(() => a.close());
  let started = false;
  void a.container.then(() => (started = true));
  await sleep(300);
  t.notOk(started, 'nothing runs while nobody connects');
  t.equal(await get({ port: a.sockets[0]!.port }), 'lazily\n', 'the first request is served by the container it started');
  t.ok(started);
  t.equal(await get({ port: a.sockets[0]!.port }), 'lazily\n', 'and so are later ones');
});

t.test('inetd: an echo service serves 50 connections, each in its own container, at most 8 at once', async (t) => {
  const srv = inetd({
    spec: spec(['cat']),
    network: 'none',
    socket: { type: 'tcp', host: '127.0.0.1', port: 0 },
    concurrency: 8,
  });
  t.teardown(() => srv.close());
  let maxActive = 0;
  const sampler = setInterval(() => (maxActive = Math.max(maxActive, srv.active)), 2);
  t.teardown(() => clearInterval(sampler));
  const port = srv.socket.port!;
  const one = (i: number) =>
    new Promise<string>((resolve, reject) => {
      const s = connect(port, '127.0.0.1');
      let got = '';
      s.setTimeout(30_000, () => s.destroy(new Error(`connection ${i} timed out`)));
      s.on('data', (d: Buffer) => (got += d));
      s.on('end', () => resolve(got));
      s.on('error', reject);
      s.end(`hello ${i}\n`);
    });
  const start = Date.now();
  const replies = await Promise.all(Array.from({ length: 50 }, (_, i) => one(i)));
  const ms = Date.now() - start;
  t.same(replies, Array.from({ length: 50 }, (_, i) => `hello ${i}\n`), 'every connection got its own echo');
  await sleep(50);
  t.equal(srv.served, 50, 'fifty containers ran');
  t.equal(srv.failed, 0);
  t.ok(maxActive <= 8 && maxActive >= 2, `at most 8 at once (saw ${maxActive})`);
  t.comment(`50 connections in ${ms} ms: ${((50 * 1000) / ms).toFixed(0)} connections/s`);
  await srv.close();
  t.equal(srv.active, 0);
});
