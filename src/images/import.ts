// images.import: what the input is (a directory or an archive; an OCI
// layout, a docker-save archive or a plain rootfs tarball; gzip or not), the
// manifest and config read and verified, then each layer the store lacks.
import { createHash } from 'node:crypto';
import { closeSync, existsSync, lstatSync, openSync, readSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { imageError } from './errors.js';
import { commit, storeLayer, sweepTmp } from './layers.js';
import { DirLayout, TarLayout, type Layout } from './layout.js';
import { fileChunks } from './read.js';
import { Pin, Store, sha256Hex, type StoreOptions } from './store.js';
import { TarIndex, isLayoutMember } from './tarindex.js';
import type { ImageRecord, LayerRecord, OciDescriptor, OciImage, OciIndex, OciManifest } from './types.js';
import { Budget, type Limits } from './unpack.js';

export interface ImportProgress {
  /** 0-based index of the layer being read, and how many the image has. */
  layer: number;
  layers: number;
  digest?: string;
  /** Bytes of this layer's blob read so far, and its size when known. */
  bytes: number;
  total?: number;
  /** The store had the layer already: nothing was read. */
  skipped?: boolean;
  done?: boolean;
}

export interface ImportOptions extends StoreOptions, Partial<Limits> {
  /** The image's name in the store; by default the archive's own (ref.name annotation, RepoTags). */
  name?: string;
  onProgress?: (p: ImportProgress) => void;
  /** Skip detection. */
  format?: 'oci' | 'docker' | 'rootfs';
}

export const DEFAULT_LIMITS: Limits = { maxBytes: 64 * 2 ** 30, maxEntries: 4_000_000 };

const MANIFEST_TYPES = new Set(['application/vnd.oci.image.manifest.v1+json', 'application/vnd.docker.distribution.manifest.v2+json']);
const INDEX_TYPES = new Set(['application/vnd.oci.image.index.v1+json', 'application/vnd.docker.distribution.manifest.list.v2+json']);
const ARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };

interface Job {
  store: Store;
  opts: ImportOptions;
  budget: Budget;
  /** Layers this import added, removed again if it fails. */
  added: string[];
  /** Every layer it found or added, safe from removal until the record is written. */
  pin: Pin;
}

function json<T>(buf: Buffer, what: string, where: string): T {
  try {
    return JSON.parse(buf.toString('utf8')) as T;
  } catch {
    throw imageError('EBADMSG', `${what} is not valid JSON`, { path: where });
  }
}

/** A small blob, read whole and checked against its digest. */
function blob<T>(layout: Layout, d: OciDescriptor, what: string): T {
  const hex = sha256Hex(d?.digest);
  if (!hex) throw imageError('EINVAL', `${what} has no sha256 digest`, { path: layout.where });
  const buf = layout.read(`blobs/sha256/${hex}`);
  const got = createHash('sha256').update(buf).digest('hex');
  if (got !== hex) throw imageError('EINTEGRITY', `digest mismatch: ${what} hashes to sha256:${got}, not ${d.digest}`, { path: layout.where });
  return json<T>(buf, what, layout.where);
}

function pickManifest(layout: Layout, index: OciIndex, name?: string, depth = 0): { desc: OciDescriptor; manifest: OciManifest } {
  const arch = ARCH[process.arch] ?? process.arch;
  const all = index.manifests ?? [];
  const named = name ? all.filter((m) => m.annotations?.['org.opencontainers.image.ref.name'] === name) : [];
  const candidates = (named.length ? named : all).filter((m) => !m.platform || (m.platform.os === 'linux' && m.platform.architecture === arch));
  const desc = candidates[0];
  if (!desc) throw imageError('ENOENT', `the index has no manifest for linux/${arch}`, { path: layout.where });
  if (INDEX_TYPES.has(desc.mediaType)) {
    if (depth > 2) throw imageError('ELOOP', 'image indexes nested too deep', { path: layout.where });
    return pickManifest(layout, blob<OciIndex>(layout, desc, 'the nested index'), undefined, depth + 1);
  }
  if (desc.mediaType && !MANIFEST_TYPES.has(desc.mediaType))
    throw imageError('ENOTSUP', `unsupported manifest media type ${desc.mediaType}`, { path: layout.where });
  return { desc, manifest: blob<OciManifest>(layout, desc, 'the manifest') };
}

/** The layers of an image into the store, bottom first; skips those it has. */
async function layers(job: Job, layout: Layout, list: { name: string; digest?: string; diffId?: string; total?: number }[]): Promise<LayerRecord[]> {
  const out: LayerRecord[] = [];
  for (const [i, l] of list.entries()) {
    const progress = (p: Partial<ImportProgress>) =>
      job.opts.onProgress?.({ layer: i, layers: list.length, digest: l.digest ?? l.diffId, bytes: 0, total: l.total, ...p });
    // Found and pinned in one section: no remove can take it between the look and the record.
    if (l.diffId && job.store.locked(() => existsSync(job.store.layer(l.diffId!)) && (job.pin.add(l.diffId!), true))) {
      progress({ skipped: true, bytes: l.total ?? 0, done: true });
      out.push({ diffId: l.diffId, digest: l.digest, size: job.store.layerSize(l.diffId) });
      continue;
    }
    let bytes = 0;
    const stored = await storeLayer(job.store, {
      stream: layout.open(l.name),
      digest: l.digest,
      diffId: l.diffId,
      name: l.digest ?? l.name,
      budget: job.budget,
      pin: job.pin,
      onBytes: (n) => progress({ bytes: (bytes += n) }),
    });
    if (stored.added) job.added.push(stored.diffId);
    progress({ bytes, done: true });
    out.push({ diffId: stored.diffId, digest: l.digest ?? stored.digest, size: stored.size });
  }
  return out;
}

async function importOci(job: Job, layout: Layout): Promise<ImageRecord> {
  const index = json<OciIndex>(layout.read('index.json'), 'index.json', layout.where);
  const { desc, manifest } = pickManifest(layout, index, job.opts.name);
  const image = blob<OciImage>(layout, manifest.config, 'the image config');
  const diffIds = image.rootfs?.diff_ids ?? [];
  if (diffIds.length !== manifest.layers.length)
    throw imageError('EBADMSG', `the config lists ${diffIds.length} diff ids for ${manifest.layers.length} layers`, { path: layout.where });
  const list = manifest.layers.map((l, i) => {
    const hex = sha256Hex(l.digest);
    if (!hex) throw imageError('EINVAL', `layer ${i} has no sha256 digest`, { path: layout.where });
    if ((l as { urls?: string[] }).urls?.length) throw imageError('ENOTSUP', `layer ${i} is a foreign layer (it must be downloaded)`, { path: layout.where });
    return { name: `blobs/sha256/${hex}`, digest: l.digest, diffId: diffIds[i], total: l.size };
  });
  const name = job.opts.name ?? desc.annotations?.['org.opencontainers.image.ref.name'];
  if (!name) throw imageError('EINVAL', 'the image has no name (no ref.name annotation): pass options.name', { path: layout.where });
  return record(name, 'oci', desc.digest, image, await layers(job, layout, list), manifest);
}

interface DockerManifest {
  Config: string;
  RepoTags?: string[] | null;
  Layers: string[];
}

async function importDocker(job: Job, layout: Layout): Promise<ImageRecord> {
  const all = json<DockerManifest[]>(layout.read('manifest.json'), 'manifest.json', layout.where);
  const m = (job.opts.name && all.find((x) => x.RepoTags?.includes(job.opts.name!))) || all[0];
  if (!m) throw imageError('ENOENT', 'manifest.json lists no image', { path: layout.where });
  const cfgBuf = layout.read(m.Config);
  const cfgHex = createHash('sha256').update(cfgBuf).digest('hex');
  const named = /([0-9a-f]{64})(\.json)?$/.exec(m.Config)?.[1];
  if (named && named !== cfgHex) throw imageError('EINTEGRITY', `digest mismatch: ${m.Config} hashes to sha256:${cfgHex}`, { path: layout.where });
  const image = json<OciImage>(cfgBuf, m.Config, layout.where);
  const diffIds = image.rootfs?.diff_ids ?? [];
  if (diffIds.length !== m.Layers.length)
    throw imageError('EBADMSG', `the config lists ${diffIds.length} diff ids for ${m.Layers.length} layers`, { path: layout.where });
  const list = m.Layers.map((l, i) => {
    // Newer docker (25+) names blobs by digest; the legacy format by layer id.
    const hex = /^blobs\/sha256\/([0-9a-f]{64})$/.exec(l)?.[1];
    return { name: l, digest: hex ? `sha256:${hex}` : undefined, diffId: diffIds[i] };
  });
  const name = job.opts.name ?? m.RepoTags?.[0];
  if (!name) throw imageError('EINVAL', 'the image has no name (no RepoTags): pass options.name', { path: layout.where });
  return record(name, 'docker', `sha256:${cfgHex}`, image, await layers(job, layout, list));
}

function record(name: string, format: ImageRecord['format'], id: string, image: OciImage, ls: LayerRecord[], manifest?: OciManifest): ImageRecord {
  return {
    name, format, id,
    created: image.created ?? new Date().toISOString(),
    layers: ls,
    manifest,
    architecture: image.architecture,
    os: image.os,
    config: image.config ?? {},
  };
}

function isLayoutDir(dir: string): 'oci' | 'docker' | undefined {
  const file = (n: string) => lstatSync(join(dir, n), { throwIfNoEntry: false })?.isFile();
  if (file('index.json') && file('oci-layout')) return 'oci';
  if (file('manifest.json')) return 'docker';
  return undefined;
}

function head(path: string): Buffer {
  const fd = openSync(path, 'r');
  try {
    const b = Buffer.alloc(4);
    return b.subarray(0, readSync(fd, b, 0, 4, 0));
  } finally {
    closeSync(fd);
  }
}

async function importFile(job: Job, path: string, size: number): Promise<ImageRecord> {
  const h = head(path);
  const gz = h[0] === 0x1f && h[1] === 0x8b;
  const forced = job.opts.format;
  if (!gz && forced !== 'rootfs') {
    // A rootfs tarball shows itself at its first member that no image archive has.
    const index = TarIndex.read(path, size, forced ? undefined : isLayoutMember);
    if (!index.stopped) {
      const layout = new TarLayout(index, path);
      if (forced === 'oci' || (!forced && layout.has('index.json') && layout.has('oci-layout'))) return importOci(job, layout);
      if (forced === 'docker' || (!forced && layout.has('manifest.json'))) return importDocker(job, layout);
    }
  }
  // A plain rootfs tarball, or a compressed image archive: unpack it as a layer
  // and look at what came out.
  const stored = await storeLayer(job.store, { stream: fileChunks(path), name: path, budget: job.budget,
    onBytes: (() => { let b = 0; return (n: number) => job.opts.onProgress?.({ layer: 0, layers: 1, bytes: (b += n), total: size }); })(),
  }, true);
  const kind = forced === 'rootfs' ? undefined : (forced ?? isLayoutDir(stored.dir));
  if (kind) {
    try {
      const layout = new DirLayout(stored.dir, path);
      return await (kind === 'oci' ? importOci(job, layout) : importDocker(job, layout));
    } finally {
      rmSync(stored.dir, { recursive: true, force: true });
    }
  }
  const { added } = commit(job.store, stored.dir, stored.diffId, stored.size, job.pin);
  if (added) job.added.push(stored.diffId);
  job.opts.onProgress?.({ layer: 0, layers: 1, bytes: size, total: size, done: true });
  const name = job.opts.name;
  if (!name) throw imageError('EINVAL', 'a rootfs tarball has no image name: pass options.name', { path });
  return record(name, 'rootfs', stored.diffId, { config: {} }, [{ diffId: stored.diffId, size: stored.size }]);
}

/** Imports an image; resolves with its record once it is in the store. */
export async function importImage(path: string, opts: ImportOptions = {}): Promise<ImageRecord> {
  const store = new Store(opts);
  const job: Job = {
    store, opts,
    budget: new Budget({ maxBytes: opts.maxBytes ?? DEFAULT_LIMITS.maxBytes, maxEntries: opts.maxEntries ?? DEFAULT_LIMITS.maxEntries }),
    added: [],
    pin: new Pin(store),
  };
  sweepTmp(store);
  let st;
  try {
    st = statSync(path);
  } catch (e) {
    throw imageError((e as NodeJS.ErrnoException).code ?? 'ENOENT', 'cannot read the image', { path });
  }
  try {
    let rec: ImageRecord;
    if (st.isDirectory()) {
      const layout = new DirLayout(path);
      const kind = opts.format ?? isLayoutDir(path);
      if (kind === 'oci') rec = await importOci(job, layout);
      else if (kind === 'docker') rec = await importDocker(job, layout);
      else throw imageError('EINVAL', 'the directory is neither an OCI image layout (index.json, oci-layout) nor a docker save (manifest.json)', { path });
    } else {
      rec = await importFile(job, path, st.size);
    }
    // The record, and the layers an older image of this name leaves unused, in one section.
    store.locked(() => {
      const old = store.readImage(rec.name);
      store.writeImage(rec);
      job.pin.release();
      if (old) store.collect(old.layers.map((l) => l.diffId));
    });
    return rec;
  } catch (e) {
    store.locked(() => {
      job.pin.release();
      store.collect(job.added);
    });
    throw e;
  }
}
