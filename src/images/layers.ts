// One layer into the store: the blob is hashed as it streams in (its digest),
// decompressed if it is gzip, hashed again (its diff id, the store's key) and
// unpacked into a temporary directory under <data>/tmp, which is renamed to
// layers/sha256/<diff id> only when every check has passed. On any failure
// (a digest mismatch, a truncated archive, a refused entry, a limit, an
// interrupted import) the temporary directory is removed: no half layer.
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { imageError } from './errors.js';
import type { Store } from './store.js';
import { tar } from './tar.js';
import { Budget, LayerWriter } from './unpack.js';

/** Bytes in pieces: a Readable, a generator (read.ts), an array. */
export type Chunks = AsyncIterable<Buffer> | Iterable<Buffer>;

export interface LayerInput {
  /** The blob as stored: a tar, gzip-compressed or not. */
  stream: Chunks;
  /** What it should hash to, as the manifest says (sha256:<hex>). */
  digest?: string;
  /** Its uncompressed sha256, as the image config says. */
  diffId?: string;
  /** Name for errors and progress (the digest, or the archive path). */
  name: string;
  /** Bytes of the blob read so far (for progress). */
  onBytes?: (n: number) => void;
  budget: Budget;
}

export interface StoredLayer {
  digest: string;
  diffId: string;
  /** Bytes of the uncompressed tar. */
  size: number;
  /** The unpacked directory, or (with keep) the temporary one. */
  dir: string;
  /** False when the store had it already (another image, or a concurrent import). */
  added: boolean;
}

const GZIP = [0x1f, 0x8b];
const ZSTD = [0x28, 0xb5, 0x2f, 0xfd];
const starts = (b: Buffer, magic: number[]) => magic.every((m, i) => b[i] === m);

/** Takes the first few bytes off a chunk source; hands back the rest, those bytes included. */
async function peek(src: Chunks, n: number): Promise<{ head: Buffer; chunks: AsyncIterable<Buffer> }> {
  const it = Symbol.asyncIterator in src ? src[Symbol.asyncIterator]() : (src as Iterable<Buffer>)[Symbol.iterator]();
  const first: Buffer[] = [];
  let len = 0;
  let done = false;
  while (len < n) {
    const r = await it.next();
    if (r.done) {
      done = true;
      break;
    }
    first.push(r.value);
    len += r.value.length;
  }
  async function* all() {
    yield* first;
    if (done) return;
    for (;;) {
      const r = await it.next();
      if (r.done) return;
      yield r.value;
    }
  }
  return { head: Buffer.concat(first), chunks: all() };
}

/** Writes chunks into the tar parser, keeping to its pace, until it has seen them all. */
async function feed(chunks: AsyncIterable<Buffer>, extract: tar.Extract, onChunk: (b: Buffer) => void): Promise<void> {
  let failed: Error | undefined;
  let wake: (() => void) | undefined;
  const settled = new Promise<void>((resolve, reject) => {
    extract.on('error', (e: Error) => {
      failed = e;
      wake?.();
      reject(e);
    });
    extract.on('finish', () => resolve());
  });
  settled.catch(() => {});
  extract.on('drain', () => wake?.());
  try {
    for await (const b of chunks) {
      if (failed) break;
      onChunk(b);
      if (!extract.write(b)) await new Promise<void>((r) => (wake = r));
      if (failed) break;
    }
  } catch (e) {
    extract.destroy(e as Error);
    throw e;
  }
  if (!failed) (extract as unknown as { end(): void }).end();
  await settled;
}

/**
 * Unpacks a layer into a temporary directory and checks it. With `keep`, the
 * directory is handed back as it is (the caller decides); otherwise it is
 * moved into the store under its diff id.
 */
export async function storeLayer(store: Store, input: LayerInput, keep = false): Promise<StoredLayer> {
  mkdirSync(store.tmp, { recursive: true });
  const tmp = mkdtempSync(join(store.tmp, `layer-${process.pid}-`));
  try {
    const blobHash = createHash('sha256');
    const diffHash = createHash('sha256');
    let size = 0;
    let tail: Buffer = Buffer.alloc(0);
    const { head, chunks } = await peek(input.stream, 4);
    if (starts(head, ZSTD))
      throw imageError('ENOTSUP', 'zstd-compressed layers are not supported (Node has no zstd before v22.15)', { path: input.name });
    const gzip = starts(head, GZIP);
    const writer = new LayerWriter(tmp, input.budget);
    const extract = tar.extract();
    extract.on('entry', (h, data, next) => {
      writer.entry(h, data as unknown as Readable).then(() => next(), (e) => next(e));
    });
    // An uncompressed blob is its own diff: hashed once, as it goes in.
    let tarBytes: AsyncIterable<Buffer> = chunks;
    if (gzip) {
      const gunzip = createGunzip({ chunkSize: 256 << 10 });
      const compressed = Readable.from(chunks, { objectMode: false });
      compressed.on('data', (b: Buffer) => {
        input.onBytes?.(b.length);
        blobHash.update(b);
      });
      compressed.on('error', (e) => gunzip.destroy(e));
      tarBytes = compressed.pipe(gunzip);
    }
    try {
      await feed(tarBytes, extract, (b) => {
        size += b.length;
        input.budget.data(b.length);
        tail = b.length >= 512 ? b.subarray(b.length - 512) : Buffer.concat([tail, b]).subarray(-512);
        diffHash.update(b);
        if (!gzip) input.onBytes?.(b.length);
      });
    } catch (e) {
      if ((e as { code?: string }).code === 'Z_BUF_ERROR' || /Unexpected end|unexpected end of file/i.test(String((e as Error).message)))
        throw imageError('EBADMSG', 'truncated archive', { path: input.name });
      throw e;
    }
    if (size % 512 !== 0 || tail.length < 512 || tail.some((x) => x !== 0))
      throw imageError('EBADMSG', 'truncated archive (no end-of-archive marker)', { path: input.name });
    writer.finish();
    const diffId = `sha256:${diffHash.digest('hex')}`;
    const digest = gzip ? `sha256:${blobHash.digest('hex')}` : diffId;
    if (input.digest && digest !== input.digest)
      throw imageError('EINTEGRITY', `digest mismatch: the blob hashes to ${digest}, the manifest says ${input.digest}`, { path: input.name });
    if (input.diffId && diffId !== input.diffId)
      throw imageError('EINTEGRITY', `diff id mismatch: the layer hashes to ${diffId}, the image config says ${input.diffId}`, { path: input.name });
    if (keep) return { digest, diffId, size, dir: tmp, added: true };
    return { digest, diffId, size, ...commit(store, tmp, diffId) };
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
}

/** Moves an unpacked layer into the store (or drops it if the store has it already). */
export function commit(store: Store, tmp: string, diffId: string): { dir: string; added: boolean } {
  const dir = store.layer(diffId);
  mkdirSync(join(dir, '..'), { recursive: true });
  try {
    renameSync(tmp, dir);
    return { dir, added: true };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw e;
    rmSync(tmp, { recursive: true, force: true });
    return { dir, added: false };
  }
}

/** Removes what imports that died (their pid is gone) left in <data>/tmp. */
export function sweepTmp(store: Store): void {
  let names: string[];
  try {
    names = readdirSync(store.tmp);
  } catch {
    return;
  }
  for (const n of names) {
    const pid = Number(/^layer-(\d+)-/.exec(n)?.[1]);
    if (!pid || pid === process.pid || alive(pid)) continue;
    rmSync(join(store.tmp, n), { recursive: true, force: true });
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
