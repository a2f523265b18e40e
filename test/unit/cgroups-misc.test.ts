// Live-update merging and the event queue behind events().
import t from 'tap';
import { mergeResources, pickResources } from '../../src/cgroups/merge.js';
import { EventQueue } from '../../src/cgroups/queue.js';

t.test('an update replaces sub-objects field by field, and lists whole', async (t) => {
  const applied = { memory: { limit: 10, swap: 20 }, pids: { limit: 5 }, devices: [{ allow: false, access: 'rwm' }] };
  const merged = mergeResources(applied, { memory: { limit: 15 }, devices: [{ allow: true, access: 'rwm' }] });
  t.same(merged, { memory: { limit: 15, swap: 20 }, pids: { limit: 5 }, devices: [{ allow: true, access: 'rwm' }] });
  t.same(applied.memory, { limit: 10, swap: 20 }, 'what was applied is not changed in place');
  t.same(pickResources(merged, { memory: { limit: 15 } }), { memory: { limit: 15, swap: 20 } }, 'only the touched controllers are written again');
});

t.test('the queue delivers in order, ends once, and return() stops it', async (t) => {
  let closed = 0;
  const q = new EventQueue<number>(() => closed++);
  q.push(1);
  t.same(await q.next(), { value: 1, done: false });
  const waiting = q.next();
  q.push(2);
  q.push(3);
  t.same(await waiting, { value: 2, done: false }, 'a waiting next() gets the next push');
  q.end();
  q.end();
  t.equal(closed, 1, 'the source is closed once');
  t.same(await q.next(), { value: 3, done: false }, 'queued items still come after end()');
  t.same(await q.next(), { value: undefined, done: true });
  const r = new EventQueue<number>();
  const got: number[] = [];
  setTimeout(() => {
    r.push(7);
    void r.return();
  }, 10);
  for await (const x of r) got.push(x);
  t.same(got, [7]);
});
