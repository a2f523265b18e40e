// Address allocation under contention: several processes, each with many
// allocations in flight, on one network; no address is handed out twice,
// and the leases of owners that are gone are reclaimed.
import t from 'tap';
import { execa } from 'execa';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomNetwork, tmpRoot } from './net-lib.js';

t.test('4 processes × 20 concurrent allocations: 80 distinct addresses', async (t) => {
  const { root, nets } = tmpRoot(t);
  const net = await randomNetwork(nets, 'busy');
  const script = `
    import { Networks } from ${JSON.stringify(new URL('../../src/netns/networks.js', import.meta.url).href)};
    import { processStartTime } from ${JSON.stringify(new URL('../../src/runtime/state.js', import.meta.url).href)};
    const nets = new Networks(${JSON.stringify(root)});
    const net = nets.get('busy');
    const startTime = processStartTime(process.pid);
    const got = await Promise.all(Array.from({ length: 20 }, (_, i) =>
      nets.acquire(net, { id: 'p' + process.pid + '-' + i, pid: process.pid, startTime, link: 'bthvfake' + i })));
    console.log(JSON.stringify(got.map((l) => l.ip)));
    process.stdin.resume(); // the owners live until the parent has looked
    process.stdin.on('end', () => process.exit(0));`;
  const children = Array.from({ length: 4 }, () => execa(process.execPath, ['--input-type=module', '-e', script], { timeout: 60_000, stdin: 'pipe' }));
  t.teardown(() => children.forEach((c) => c.kill()));
  const firstLine = (c: (typeof children)[number]) => new Promise<string>((resolve) => c.stdout!.once('data', (d: Buffer) => resolve(d.toString())));
  const handed = (await Promise.all(children.map(firstLine))).flatMap((l) => JSON.parse(l) as string[]);
  t.equal(handed.length, 80);
  t.equal(new Set(handed).size, 80, 'no address twice');
  t.notOk(handed.includes(net.gateway), 'never the gateway');
  const file = JSON.parse(readFileSync(join(root, 'networks', 'busy', 'leases.json'), 'utf8')) as { leases: { ip: string }[] };
  t.same(file.leases.map((l) => l.ip).sort(), [...handed].sort(), 'the record holds exactly what was handed out');
  t.equal(nets.leases(net).length, 80, 'all live');
  for (const c of children) c.stdin!.end();
  await Promise.all(children);
  // Their owners have exited: the next call reclaims everything.
  t.same(nets.leases(net), [], 'no live lease');
  const reclaimed = await nets.gc();
  t.equal(reclaimed.length, 80, 'gc reclaimed the dead owners\' leases');
  t.same((JSON.parse(readFileSync(join(root, 'networks', 'busy', 'leases.json'), 'utf8')) as { leases: unknown[] }).leases, []);
});
