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
import { alive, type Pin, type Store } from './store.js';
import { FileRegion } from './read.js';
import { Budget, LayerWriter } from './unpack.js';
import { TarParser } from './untar.js';
import { onWorker, unpackOnWorker } from './unpack-worker.js';

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
  /** The import's pin: a committed layer is pinned in the same locked section. */
  pin?: Pin;
  /** An uncompressed blob in a file at least this large is unpacked on a worker thread (default WORKER_MIN_BYTES). */
  workerMinBytes?: number;
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

/** The first bytes of a file region, without consuming anything. */
function headOf(region: FileRegion, n: number): Buffer {
  for (const b of new FileRegion(region.path, region.start, Math.min(n, region.length))) return b;
  return Buffer.alloc(0);
}

const truncated = (e: unknown) =>
  (e as { code?: string }).code === 'Z_BUF_ERROR' || /Unexpected end|unexpected end of file/i.test(String((e as Error).message));

/**
 * Unpacks a layer into a temporary directory and checks it. With `keep`, the
 * directory is handed back as it is (the caller decides); otherwise it is
 * moved into the store under its diff id.
 *
 * The tar is read synchronously (untar.ts) into the writer (unpack.ts),
 * whose syscalls the addon runs a chunk at a time (fsops.ts): a large
 * uncompressed blob in a file is unpacked on a worker thread while this one
 * reads and hashes it (unpack-worker.ts); a smaller one goes through one
 * reused buffer here; a gzip one is inflated by zlib on the thread pool
 * while this thread hashes, parses and writes.
 */
export async function storeLayer(store: Store, input: LayerInput, keep = false): Promise<StoredLayer> {
  mkdirSync(store.tmp, { recursive: true });
  const tmp = mkdtempSync(join(store.tmp, `layer-${process.pid}-`));
  const writer = new LayerWriter(tmp, input.budget);
  try {
    const blobHash = createHash('sha256');
    const diffHash = createHash('sha256');
    let workerHex: string | undefined;
    let size = 0;
    const parser = new TarParser(writer);
    const tarChunk = (b: Buffer) => {
      size += b.length;
      input.budget.data(b.length);
      diffHash.update(b);
      parser.push(b);
    };
    let head: Buffer;
    let chunks: AsyncIterable<Buffer> | Iterable<Buffer>;
    if (input.stream instanceof FileRegion) {
      head = headOf(input.stream, 4);
      chunks = input.stream;
    } else {
      ({ head, chunks } = await peek(input.stream, 4));
    }
    if (starts(head, ZSTD))
      throw imageError('ENOTSUP', 'zstd-compressed layers are not supported (Node has no zstd before v22.15)', { path: input.name });
    const gzip = starts(head, GZIP);
    const big = input.stream instanceof FileRegion ? onWorker(input.stream, gzip, input.workerMinBytes) : 0;
    try {
      if (big) {
        const r = await unpackOnWorker(input.stream as FileRegion, big, tmp, input.budget, input.onBytes);
        size = r.size;
        workerHex = r.hex;
      } else if (!gzip) {
        // An uncompressed blob is its own diff: hashed once, as it goes in.
        const src = input.stream instanceof FileRegion ? input.stream.reuse() : chunks;
        if (Symbol.asyncIterator in src) for await (const b of src) tarChunk(b), input.onBytes?.(b.length);
        else for (const b of src) tarChunk(b), input.onBytes?.(b.length);
      } else {
        const gunzip = createGunzip({ chunkSize: 256 << 10 });
        const compressed = Readable.from(chunks, { objectMode: false });
        compressed.on('data', (b: Buffer) => {
          input.onBytes?.(b.length);
          blobHash.update(b);
        });
        compressed.on('error', (e) => gunzip.destroy(e));
        try {
          for await (const b of compressed.pipe(gunzip) as AsyncIterable<Buffer>) tarChunk(b);
        } finally {
          compressed.destroy();
          gunzip.destroy();
        }
      }
      if (!big) parser.finish();
    } catch (e) {
      if (truncated(e)) throw imageError('EBADMSG', 'truncated archive', { path: input.name });
      const err = e as { code?: string; path?: string; message: string };
      // The tar reader's own errors, named by the blob they are in.
      if (err.code === 'EBADMSG' && err.path === undefined)
        throw imageError('EBADMSG', err.message.replace(/^EBADMSG: /, '').replace(/ \(import image\)$/, ''), { path: input.name });
      throw e;
    }
    if (!big) writer.finish();
    const diffId = `sha256:${workerHex ?? diffHash.digest('hex')}`;
    const digest = gzip ? `sha256:${blobHash.digest('hex')}` : diffId;
    if (input.digest && digest !== input.digest)
      throw imageError('EINTEGRITY', `digest mismatch: the blob hashes to ${digest}, the manifest says ${input.digest}`, { path: input.name });
    if (input.diffId && diffId !== input.diffId)
      throw imageError('EINTEGRITY', `diff id mismatch: the layer hashes to ${diffId}, the image config says ${input.diffId}`, { path: input.name });
    if (keep) return { digest, diffId, size, dir: tmp, added: true };
    return { digest, diffId, size, ...commit(store, tmp, diffId, size, input.pin) };
  } catch (e) {
    writer.abort();
    rmSync(tmp, { recursive: true, force: true });
    // A syscall's error (from the writer's batches or fs) says which step it broke, as berth's own do.
    const err = e as { syscall?: string; step?: string };
    if (err.syscall && err.step === undefined) err.step = 'import image';
    throw e;
  }
}

/**
 * Moves an unpacked layer into the store (or drops it if the store has it
 * already), and pins it, under the store's lock; the size record is written
 * in the same section, so a stored layer always has one.
 */
export function commit(store: Store, tmp: string, diffId: string, size: number, pin?: Pin): { dir: string; added: boolean } {
  const dir = store.layer(diffId);
  mkdirSync(join(dir, '..'), { recursive: true });
  const added = store.locked(() => {
    let won = true;
    try {
      renameSync(tmp, dir);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw e;
      won = false;
    }
    if (won) store.recordLayer(diffId, size);
    pin?.add(diffId);
    return won;
  });
  if (!added) rmSync(tmp, { recursive: true, force: true });
  return { dir, added };
}

/** Removes what imports that died (their pid is gone) left in <data>/tmp: half layers, pins, removed layers. */
export function sweepTmp(store: Store): void {
  let names: string[];
  try {
    names = readdirSync(store.tmp);
  } catch {
    return;
  }
  for (const n of names) {
    const pid = Number(/^(?:layer|pin|gc)-(\d+)-/.exec(n)?.[1]);
    if (!pid || alive(pid)) continue;
    rmSync(join(store.tmp, n), { recursive: true, force: true });
  }
}
