// Runs last (tap orders files by path): nothing berth or the tests made may
// be left on the machine.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { rootfs, stopCliServers } from './helpers.js';

const lines = (s: string) => s.split('\n').filter(Boolean);
const ls = (d: string) => (existsSync(d) ? readdirSync(d) : []);

t.test('no mount left', async (t) => {
  const ours = lines(readFileSync('/proc/self/mountinfo', 'utf8')).filter((l) => {
    const point = l.split(' ')[4] ?? '';
    return /\/run\/berth|\/var\/lib\/berth|\/tmp\/bth-/.test(point) || point.startsWith(rootfs) || / - overlay /.test(l);
  });
  t.same(ours, []);
});

t.test('no cgroup left', async (t) => {
  const left: string[] = [];
  for (const h of ls('/sys/fs/cgroup')) {
    const d = join('/sys/fs/cgroup', h, 'berth');
    if (existsSync(d)) left.push(...readdirSync(d, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => join(d, e.name)));
  }
  if (existsSync('/sys/fs/cgroup/cgroup.controllers') && existsSync('/sys/fs/cgroup/berth'))
    left.push(...readdirSync('/sys/fs/cgroup/berth', { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name));
  t.same(left, []);
});

t.test('no link, netns or nftables table left', async (t) => {
  const links = lines(execFileSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' }))
    .map((l) => l.split(': ')[1]?.split('@')[0] ?? '')
    .filter((n) => n.startsWith('bth'));
  t.same(links, [], 'links named bth*');
  t.same(ls('/run/netns').filter((n) => n.startsWith('bth')), [], 'named netns');
  let tables = '';
  try {
    tables = execFileSync('nft', ['list', 'tables'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    // no nft on this machine: no table either
  }
  t.notMatch(tables, /\bberth\b/, 'nftables table berth');
});

t.test('the CLI server leaves on SIGTERM and takes its socket with it', async (t) => {
  t.same(await stopCliServers(), [], 'CLI servers of this build still running');
  t.same(ls('/run/berth/.cli'), [], 'sockets and locks in /run/berth/.cli');
});

t.test('no state or temp dir left', async (t) => {
  t.same(ls('/run/berth'), [], '/run/berth');
  t.same(ls('/tmp').filter((n) => n.startsWith('bth-')), [], '/tmp/bth-*');
  t.same(ls(join(rootfs, 'mnt')), [], 'mount points made in the test rootfs');
});

t.test('no berth process left', async (t) => {
  const procs = ls('/proc').filter((p) => /^\d+$/.test(p)).filter((p) => {
    try {
      return readlinkSync(`/proc/${p}/exe`).endsWith('/berth-setup');
    } catch {
      return false;
    }
  });
  t.same(procs, [], 'berth-setup processes');
});
