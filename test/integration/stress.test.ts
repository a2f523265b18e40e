// Many containers at once while libuv's threadpool is saturated: every one
// must run and report correctly, and the process must end as it started, with
// no zombie, no extra fd and no extra mount.
import t, { type Test } from 'tap';
import { pbkdf2 } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { BerthError, create, run, type RunResult } from '../../src/index.js';
import { childPids as children, fdTable, spec } from '../helpers.js';

const TOTAL = 200;
const CONCURRENCY = 20;

// --- helpers ---------------------------------------------------------------


const mountCount = () => readFileSync('/proc/self/mountinfo', 'utf8').trim().split('\n').length;

const sleep = (ms: number) => new Promise((res) => setTimeout(res, ms));

/** Runs job(0..n-1) with at most `limit` at a time; results in order, and the most that ran at once. */
async function pool<T>(n: number, limit: number, job: (i: number) => Promise<T>): Promise<{ results: T[]; peak: number }> {
  const results: T[] = new Array(n);
  let next = 0;
  let active = 0;
  let peak = 0;
  const worker = async () => {
    while (next < n) {
      const i = next++;
      active++;
      peak = Math.max(peak, active);
      try {
        results[i] = await job(i);
      } finally {
        active--;
      }
    }
  };
  await Promise.all(Array.from({ length: limit }, worker));
  return { results, peak };
}

/** Keeps the threadpool busy (pbkdf2 and file reads, 4 jobs at a time) until stop(). */
function busyThreadpool(): { stop: () => Promise<number> } {
  const dir = mkdtempSync(join(tmpdir(), 'berth-stress-'));
  const file = join(dir, 'big');
  writeFileSync(file, Buffer.alloc(8 << 20, 7));
  const hash = promisify(pbkdf2);
  let running = true;
  let done = 0;
  const loop = async (work: () => Promise<unknown>) => {
    while (running) {
      await work();
      done++;
    }
  };
  const loops = [
    loop(() => hash('secret', 'salt', 50_000, 32, 'sha256')),
    loop(() => hash('secret', 'salt', 50_000, 32, 'sha512')),
    loop(() => readFile(file)),
    loop(() => readFile(file)),
  ];
  return {
    stop: async () => {
      running = false;
      await Promise.all(loops);
      rmSync(dir, { recursive: true, force: true });
      return done;
    },
  };
}

interface Baseline {
  fds: Map<string, string>;
  children: string[];
  mounts: number;
}

const baseline = (): Baseline => ({ fds: fdTable(), children: children(), mounts: mountCount() });

/** Back to the baseline: waits up to 2 s for the last closes and reaps. */
async function nothingLeft(t: Test, before: Baseline) {
  let fds = fdTable();
  let kids = children();
  for (let i = 0; i < 40 && (fds.size !== before.fds.size || kids.length !== before.children.length); i++) {
    await sleep(50);
    fds = fdTable();
    kids = children();
  }
  const extra = [...fds].filter(([fd, target]) => before.fds.get(fd) !== target).map(([fd, target]) => `${fd} -> ${target}`);
  t.same(extra, [], 'no leaked fd');
  const left = kids.filter((p) => !before.children.includes(p));
  t.same(left, [], 'no child left, zombie or alive');
  t.equal(mountCount(), before.mounts, 'mountinfo line count unchanged');
}

// The first container makes Node open a few fds of its own for good; do that before any baseline.
t.before(async () => {
  await run({ spec: spec(['true']) });
});

// --- tests -------------------------------------------------------------------

t.test(`${TOTAL} containers, ${CONCURRENCY} at a time, with a busy threadpool`, async (t) => {
  const before = baseline();
  const busy = busyThreadpool();
  const started = Date.now();
  let ran: { results: RunResult[]; peak: number };
  try {
    ran = await pool(TOTAL, CONCURRENCY, (i) => run({ spec: spec(['echo', 'ok', String(i)]) }));
  } finally {
    const jobs = await busy.stop();
    t.ok(jobs > 0, `the threadpool did work meanwhile (${jobs} jobs)`);
  }
  const { results, peak } = ran;
  t.equal(peak, CONCURRENCY, `${CONCURRENCY} containers were in flight at once`);
  const bad = results.map((r, i) => ({ i, r })).filter(({ i, r }) => r.exitCode !== 0 || r.signal || r.stdout.toString() !== `ok ${i}\n` || r.stderr.length);
  t.same(
    bad.map(({ i, r }) => `#${i}: exit ${r.exitCode} ${r.signal ?? ''} ${JSON.stringify(r.stdout.toString())} ${JSON.stringify(r.stderr.toString())}`),
    [],
    'every container exited 0 with its own output',
  );
  t.comment(`${TOTAL} containers in ${Date.now() - started} ms`);
  await nothingLeft(t, before);
});

t.test('100 running containers killed with SIGKILL, 20 at a time', async (t) => {
  const before = baseline();
  const { results } = await pool(100, 20, async () => {
    const c = await create({ spec: spec(['sh', '-c', 'echo up; exec cat']) });
    const up = new Promise<void>((res) => c.stdout!.once('data', () => res()));
    await c.start();
    await up;
    c.kill('SIGKILL');
    const r = await c.wait();
    await c.delete();
    return r;
  });
  t.same(
    results.filter((r) => r.exitCode !== 137 || r.signal !== 'SIGKILL'),
    [],
    'each reports 137 / SIGKILL',
  );
  await nothingLeft(t, before);
});

t.test('100 failing execs, 20 at a time', async (t) => {
  const before = baseline();
  const { results: errors } = await pool(100, 20, (i) =>
    run({ spec: spec([`/nope-${i}`]) }).then(
      () => undefined,
      (e) => e as BerthError,
    ),
  );
  const wrong = errors
    .map((e, i) => ({ e, i }))
    .filter(({ e, i }) => !(e instanceof BerthError) || e.code !== 'ENOENT' || e.step !== 'exec' || e.path !== `/nope-${i}`);
  t.same(
    wrong.map(({ e, i }) => `#${i}: ${e?.message}`),
    [],
    'each rejects with its own ENOENT at exec',
  );
  await nothingLeft(t, before);
});
