// Several processes on one image store at once: an import that found a
// layer in the store keeps it although another process removes the image
// that brought it; imports, removes and container roots racing in four
// processes leave every image whole, no layer unused and nothing in tmp/.
import t, { type Test } from 'tap';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { images } from '../../src/index.js';
import { layerTar, ociLayout } from '../fixtures/images/build.js';

const dir = mkdtempSync('/tmp/bth-imglock-');
const data = join(dir, 'data');
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const opts = { dataDir: data };
const lib = fileURLToPath(new URL('../../src/images/index.js', import.meta.url));

/** Runs `body` (ESM, with `images`, `fs`, `job` and a blocking `sleep` in scope) in a new node process; resolves with its stdout. */
function child(body: string, job: Record<string, unknown>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const script = `import * as images from ${JSON.stringify(lib)};
import * as fs from 'node:fs';
const job = JSON.parse(process.env.BTH_JOB);
const sleep = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
${body}`;
  const p = spawn(process.execPath, ['--input-type=module', '-e', script], { env: { ...process.env, BTH_JOB: JSON.stringify(job) }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  p.stdout.on('data', (b) => (stdout += b));
  p.stderr.on('data', (b) => (stderr += b));
  return new Promise((resolve) => p.on('close', (code) => resolve({ code, stdout, stderr })));
}

const layerDirs = () => (existsSync(join(data, 'layers', 'sha256')) ? readdirSync(join(data, 'layers', 'sha256')).filter((n) => !n.endsWith('.json')) : []);

/** Every image whole, every stored layer used by one, nothing half-made left. */
function checkStore(t: Test) {
  const used = new Set<string>();
  for (const rec of images.list(opts))
    for (const l of rec.layers) {
      used.add(l.diffId.slice(7));
      t.ok(existsSync(join(data, 'layers', 'sha256', l.diffId.slice(7), 'etc')), `${rec.name}: layer ${l.diffId.slice(7, 19)} is in the store`);
    }
  t.same(layerDirs().sort(), [...used].sort(), 'the stored layers are exactly those the images use');
  t.same(existsSync(join(data, 'tmp')) ? readdirSync(join(data, 'tmp')) : [], [], 'no half layer, pin or removed layer left in tmp/');
}

t.before(async () => {
  const shared = await layerTar([{ name: 'etc/', type: 'directory' }, { name: 'etc/shared', content: 'shared layer' }]);
  const own = (n: string) => layerTar([{ name: 'etc/', type: 'directory' }, { name: `etc/${n}`, content: n }]);
  ociLayout(join(dir, 'a'), { layers: [shared, await own('a')], name: 'a' });
  ociLayout(join(dir, 'b'), { layers: [shared], name: 'b' });
  ociLayout(join(dir, 'c'), { layers: [shared, await own('c')], name: 'c' });
});

t.test('a layer an import found in the store survives the removal of the image that brought it', async (t) => {
  await images.import(join(dir, 'b'), opts);
  const paused = join(dir, 'paused');
  const go = join(dir, 'go');
  // The import finds the shared layer, then stops in its second layer until told to go on.
  const importing = child(
    `await images.import(job.layout, { dataDir: job.data, onProgress: (p) => {
       if (p.layer !== 1 || p.done) return;
       fs.writeFileSync(job.paused, '');
       for (let i = 0; i < 2000 && !fs.existsSync(job.go); i++) sleep(5);
     } });
     console.log('imported');`,
    { layout: join(dir, 'a'), data, paused, go },
  ).catch((e) => ({ code: -1, stdout: '', stderr: String(e) }));
  for (let i = 0; i < 400 && !existsSync(paused); i++) await sleep(25);
  t.ok(existsSync(paused), 'the import is in its second layer');
  const removing = await child(`console.log(JSON.stringify(images.remove('b', { dataDir: job.data })));`, { data });
  t.equal(removing.code, 0, removing.stderr);
  t.same(JSON.parse(removing.stdout), { layersRemoved: [] }, 'the shared layer is pinned by the running import');
  writeFileSync(go, '');
  const imported = await importing;
  t.equal(imported.code, 0, imported.stderr);
  t.equal(imported.stdout, 'imported\n');
  const root = images.rootfs('a', { ...opts, id: 'lock-a' });
  t.equal(root.overlay.lower.length, 2, 'the new image has both its layers');
  await root.overlay.release!();
  checkStore(t);
  images.remove('a', opts);
  t.same(layerDirs(), [], 'removing the last image removes the shared layer');
});

t.test('imports, removes and container roots in four processes at once', async (t) => {
  const until = Date.now() + 3000;
  const loop = (body: string) => child(
    `let n = 0;
     while (Date.now() < job.until) {
       n++;
       try { ${body} } catch (e) { if (e.code !== 'ENOENT' && e.code !== 'EBUSY') { console.error(e); process.exit(1); } }
     }
     console.log(n);`,
    { data, until, a: join(dir, 'a'), b: join(dir, 'b'), c: join(dir, 'c') },
  );
  const results = await Promise.all([
    loop(`await images.import(job[n % 2 ? 'a' : 'b'], { dataDir: job.data });`),
    loop(`await images.import(job[n % 2 ? 'c' : 'a'], { dataDir: job.data });`),
    loop(`images.remove(['a', 'b', 'c'][n % 3], { dataDir: job.data }); sleep(2);`),
    loop(`const r = images.rootfs(['a', 'b', 'c'][n % 3], { dataDir: job.data, id: 'race-' + process.pid });
          for (const l of r.overlay.lower) if (!fs.existsSync(l + '/etc')) throw new Error('a container root lost a layer: ' + l);
          await r.overlay.release(); sleep(2);`),
  ]);
  for (const [i, r] of results.entries()) {
    t.equal(r.code, 0, `process ${i}: ${r.stderr}`);
    t.ok(Number(r.stdout) > 3, `process ${i} made ${r.stdout.trim()} rounds`);
  }
  checkStore(t);
  for (const rec of images.list(opts)) images.remove(rec.name, opts);
  t.same(layerDirs(), []);
  t.same(readdirSync(join(data, 'containers')), [], 'no container root left');
});
