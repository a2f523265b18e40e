// bench/images.ts: importing a large image against `tar -x` and `umoci
// unpack` of the same layer, in the same run; a repeated import; a
// container rootfs's set-up and removal.
//
//   npx tsc -p . && node dist/bench/images.js [--src /usr/share] [--runs 3] [--disk] [--gzip]
//
// The image: one layer, a GNU tar (with xattrs) of --src (default
// /usr/share: ~640 MiB, ~54,000 entries on Debian 12), as the one blob of an
// OCI layout in /tmp/bth-bench-images-*. Every tool reads that blob from the
// page cache (warmed first) and unpacks it into an empty target: a tmpfs
// (default: what is measured is the tools' own work, not the disk's), or
// with --disk the temp dir's own file system. With --gzip the layer is
// gzip-compressed (level 6, as docker and umoci write them) and tar runs as
// `tar -xz` (gzip in a process of its own). The tools take turns, round
// after round, and `sync` runs before each. Wall time and CPU time (user +
// system, children's included) are both reported: on a shared machine the
// CPU time is the steadier figure.
import { execa } from 'execa';
import { execFileSync } from 'node:child_process';
import { createReadStream, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, statfsSync } from 'node:fs';
import { createGunzip } from 'node:zlib';
import tarStream from 'tar-stream';
import { join } from 'node:path';
import { images, run } from '../src/index.js';
import { ensureTools, log, median, table, version } from './lib.js';
import { ociLayout } from '../test/fixtures/images/build.js';

const arg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]! : dflt;
};
const src = arg('src', '/usr/share');
const runs = Number(arg('runs', '3'));
const disk = process.argv.includes('--disk');
const gzip = process.argv.includes('--gzip');
const TMPFS = 0x01021994;

await ensureTools({ umoci: 'umoci', tar: 'tar', '/usr/bin/time': 'time' });
const dir = mkdtempSync('/tmp/bth-bench-images-');
const target = join(dir, 'target');
mkdirSync(target);
if (!disk) execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8g,mode=755', 'bth-bench', target]);
const cleanup = () => {
  if (!disk) execFileSync('umount', ['-l', target], { stdio: 'ignore' });
  rmSync(dir, { recursive: true, force: true });
};
process.on('exit', cleanup);
process.on('SIGINT', () => process.exit(130));

log(`packing ${src}`);
const layerFile = join(dir, 'layer.tar');
execFileSync('tar', ['--xattrs', '--xattrs-include=*', '--numeric-owner', '-C', src, '-cf', layerFile, '.']);
const files = Number(execFileSync('sh', ['-c', `tar -tf ${layerFile} | wc -l`], { encoding: 'utf8' }).trim());
const size = statSync(layerFile).size;
log(`layer: ${(size / 2 ** 20).toFixed(0)} MiB, ${files} entries`);
const oci = join(dir, 'oci');
const { layerDigests } = ociLayout(oci, { layers: [readFileSync(layerFile)], gzip, name: 'big', config: { Cmd: ['/bin/true'] } });
rmSync(layerFile);
const blobPath = join(oci, 'blobs', 'sha256', layerDigests[0]!.slice(7));
execFileSync('sh', ['-c', `cat ${blobPath} > /dev/null`]);

const out = join(target, 'out');
const empty = () => {
  rmSync(out, { recursive: true, force: true });
  if (!disk && statfsSync(target).type !== TMPFS) throw new Error(`${target} is no longer a tmpfs`);
};

interface Sample {
  wall: number;
  cpu: number;
  /** Peak resident set, MiB (children only: the largest process of the tree). */
  rss?: number;
}
/** A child under GNU time: wall and user+sys seconds and peak RSS from its own accounting. */
async function timedChild(argv: string[]): Promise<Sample> {
  const r = await execa('/usr/bin/time', ['-f', '%e %U %S %M', ...argv], { stderr: 'pipe' });
  const [e, u, s, m] = r.stderr.trim().split('\n').at(-1)!.split(' ').map(Number);
  return { wall: e! * 1000, cpu: (u! + s!) * 1000, rss: m! / 1024 };
}
async function timedHere(fn: () => Promise<unknown>): Promise<Sample> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await fn();
  const c = process.cpuUsage(c0);
  return { wall: performance.now() - t0, cpu: (c.user + c.system) / 1000 };
}

const tools: [string, () => Promise<Sample>][] = [
  ['tar -x (GNU tar 1.34, --xattrs, as root)', () => (mkdirSync(out), timedChild(['tar', '--xattrs', '--xattrs-include=*', '--numeric-owner', gzip ? '-xzpf' : '-xpf', blobPath, '-C', out]))],
  ['umoci unpack', () => timedChild(['umoci', 'unpack', '--image', `${oci}:big`, out])],
  // In this process: the first round starts the unpack worker, later ones find it kept (src/images/unpack-worker.ts).
  ['berth images.import, empty store', () => timedHere(() => images.import(oci, { dataDir: out }))],
  // What a person at a terminal gets: a fresh Node each time (its start-up, the bundle, a cold worker).
  ['berth import (CLI, a fresh process each time)', () => timedChild(['env', `BERTH_DATA_DIR=${out}`, join(process.cwd(), 'bin', 'berth'), 'import', oci, 'big'])],
  // What the issue first asked for: tar-stream's extract, here only parsing (entries drained, nothing written, nothing hashed).
  ['tar-stream extract, parse only', () => timedHere(() => tarStreamParse(blobPath))],
];
/** tar-stream's extract over the blob, 1 MiB at a time: every entry's stream drained, nothing else. */
async function tarStreamParse(path: string): Promise<number> {
  const ex = tarStream.extract();
  let entries = 0;
  ex.on('entry', (_h, stream, next) => {
    entries++;
    stream.on('end', () => next());
    stream.resume();
  });
  const done = new Promise<void>((resolve, reject) => (ex.on('finish', () => resolve()), ex.on('error', reject)));
  const file = createReadStream(path, { highWaterMark: 1 << 20 });
  for await (const b of gzip ? file.pipe(createGunzip({ chunkSize: 1 << 20 })) : file) if (!ex.write(b)) await new Promise<void>((r) => ex.once('drain', () => r()));
  ex.end(null);
  await done;
  return entries;
}

const times = new Map<string, Sample[]>(tools.map(([n]) => [n, []]));
// Each round starts with the next tool, so none always follows umoci's (both cores, 30 s) or always runs first.
for (let i = 0; i < runs; i++)
  for (let k = 0; k < tools.length; k++) {
    const [name, fn] = tools[(i + k) % tools.length]!;
    empty();
    execFileSync('sync');
    const s = await fn();
    times.get(name)!.push(s);
    log(`${name}: ${s.wall.toFixed(0)} ms wall, ${s.cpu.toFixed(0)} ms cpu`);
  }
const rows: [string, Sample[]][] = [...times];

// The store holds the layer now: import the image again, under another name.
const again: Sample[] = [];
for (let i = 0; i < runs; i++) again.push(await timedHere(() => images.import(oci, { dataDir: out, name: `big-${i}` })));
rows.push(['berth images.import, layer already stored', again]);
const tarMs = median(times.get(tools[0]![0])!.map((s) => s.wall));
const perRound = (name: string) => times.get(name)!.map((s, i) => s.wall / times.get(tools[0]![0])![i]!.wall);
const tarCpu = median(times.get(tools[0]![0])!.map((s) => s.cpu));
empty();

// Container rootfs on an image: images.rootfs + images.spec, then run /bin/true
// on the overlay (the upper/work removal included), against the same run on
// the plain directory.
const busybox = join(process.cwd(), 'test', '.rootfs', 'busybox');
const bbTar = join(dir, 'busybox.tar');
execFileSync('tar', ['-C', busybox, '-cf', bbTar, '.']);
const store = join(target, 'store');
await images.import(bbTar, { dataDir: store, name: 'busybox' });
const bb = images.inspect('busybox', { dataDir: store });
const prep: Sample[] = [];
const onOverlay: Sample[] = [];
const onDir: Sample[] = [];
for (let i = 0; i < Math.max(runs * 10, 30); i++) {
  let root!: ReturnType<typeof images.rootfs>;
  prep.push(await timedHere(async () => (root = images.rootfs('busybox', { dataDir: store, id: `bench-${i}` }))));
  const spec = images.spec(bb, { dataDir: store, rootfs: root.path, entrypoint: ['/bin/true'] });
  onOverlay.push(await timedHere(() => run({ spec, overlay: root.overlay, stdio: 'ignore' })));
  spec.root = { path: busybox, readonly: true };
  onDir.push(await timedHere(() => run({ spec, stdio: 'ignore' })));
}
rows.push(['images.rootfs (upper, work, mount point, record)', prep]);
rows.push(['run /bin/true on the overlay (mount, run, remove upper/work)', onOverlay]);
rows.push(['run /bin/true on a plain directory (no overlay)', onDir]);

const ms = (xs: Sample[], k: 'wall' | 'cpu') => median(xs.map((s) => s[k]));
console.log(`\n${(size / 2 ** 20).toFixed(0)} MiB layer${gzip ? ` (${(statSync(blobPath).size / 2 ** 20).toFixed(0)} MiB gzip)` : ''}, ${files} entries, from ${src}, into ${disk ? 'the temp dir\'s file system' : 'a tmpfs'}; ${runs} rounds; ${await version('tar')}; ${(await execa('umoci', ['--version'], { reject: false })).stdout.trim()}; Node ${process.version}; kernel ${execFileSync('uname', ['-r'], { encoding: 'utf8' }).trim()}; load ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}\n`);
console.log(table([
  ['what', 'wall ms (median)', 'cpu ms (median)', 'wall vs tar -x', 'cpu vs tar -x', 'peak RSS MiB'],
  ...rows.map(([n, xs], i) => [
    n, ms(xs, 'wall').toFixed(1), ms(xs, 'cpu').toFixed(1),
    i < tools.length ? `${(ms(xs, 'wall') / tarMs).toFixed(2)}x` : '', i < tools.length ? `${(ms(xs, 'cpu') / tarCpu).toFixed(2)}x` : '',
    xs[0]?.rss !== undefined ? Math.max(...xs.map((x) => x.rss!)).toFixed(0) : '',
  ]),
]));
// The same round's tar -x is the nearest in time: its ratio cancels most of a shared machine's drift.
for (const [name] of tools.slice(1))
  console.log(`${name} ÷ tar -x, round by round: ${perRound(name).map((r) => r.toFixed(2)).join(' ')} (median ${median(perRound(name)).toFixed(2)})`);
