// A large uncompressed layer, unpacked on a worker thread while the main
// thread reads and hashes it, both on the same memory: a ring of slots in a
// SharedArrayBuffer.
//
//   main thread                                  worker
//   read a chunk into a FREE slot, hash it,
//   mark it READ ──────────────────────────────▶ parse it and make its entries
//                ◀────────────────────────────── (untar.ts, unpack.ts), mark it FREE
//
// So the digest is taken over exactly the bytes that were unpacked, each
// read once; the two cores work side by side, and Node's event loop stays
// free between chunks (the main thread waits with Atomics.waitAsync).
//
// Slot states: FREE → READ → FREE; END after the last chunk; ABORT when
// either side gives up (the other stops at its next slot).
import { createHash } from 'node:crypto';
import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker, parentPort, workerData } from 'node:worker_threads';
import { BerthError } from '../runtime/errors.js';
import { Budget, LayerWriter, type Limits } from './unpack.js';
import type { FileRegion } from './read.js';
import { TarParser } from './untar.js';

const SLOTS = 16;
const SLOT_BYTES = 1 << 20;
const Slot = { FREE: 0, READ: 1, END: 3, ABORT: 4 } as const;
/** SLOTS Int32 states, SLOTS Int32 lengths, then the slots. */
const DATA = Math.ceil((SLOTS * 8) / 64) * 64;

interface Shared {
  state: Int32Array;
  lens: Int32Array;
  slot(i: number, n?: number): Buffer;
}

function views(sab: SharedArrayBuffer): Shared {
  return {
    state: new Int32Array(sab, 0, SLOTS),
    lens: new Int32Array(sab, SLOTS * 4, SLOTS),
    slot: (i, n = SLOT_BYTES) => Buffer.from(sab, DATA + i * SLOT_BYTES, n),
  };
}

const abortAll = (s: Shared) => {
  for (let i = 0; i < SLOTS; i++) {
    Atomics.store(s.state, i, Slot.ABORT);
    Atomics.notify(s.state, i);
  }
};

interface UnpackJob {
  dir: string;
  limits: Limits;
  entries: number;
  bytes: number;
  shared: SharedArrayBuffer;
}

type UnpackResult =
  | { ok: true; size: number; entries: number; bytes: number }
  | { ok: false; error: { name: string; message: string; code?: string; errno?: number; syscall?: string; path?: string; step?: string; hint?: string } };

/** An error from the worker, as it was thrown there. */
function rebuild(e: Extract<UnpackResult, { ok: false }>['error']): Error {
  if (e.name === 'BerthError') return new BerthError(e.message, { code: e.code ?? 'EIO', errno: e.errno, syscall: e.syscall, path: e.path, step: e.step ?? 'import image', hint: e.hint });
  return Object.assign(new Error(e.message), { code: e.code, errno: e.errno, syscall: e.syscall, path: e.path, ...(e.step !== undefined && { step: e.step }) });
}

// ---- The worker.

function run(job: UnpackJob): UnpackResult {
  const s = views(job.shared);
  const slots = Array.from({ length: SLOTS }, (_, i) => s.slot(i));
  const budget = new Budget(job.limits);
  budget.entries = job.entries;
  budget.bytes = job.bytes;
  const writer = new LayerWriter(job.dir, budget);
  const parser = new TarParser(writer);
  let size = 0;
  try {
    for (let slot = 0; ; slot = (slot + 1) % SLOTS) {
      let v;
      while ((v = Atomics.load(s.state, slot)) === Slot.FREE) Atomics.wait(s.state, slot, Slot.FREE);
      if (v !== Slot.READ) break; // END, or ABORT (then the archive looks truncated: the main thread knows why)
      const n = s.lens[slot]!;
      size += n;
      budget.data(n);
      parser.push(slots[slot]!.subarray(0, n));
      Atomics.store(s.state, slot, Slot.FREE);
      Atomics.notify(s.state, slot);
    }
    parser.finish();
    writer.finish();
    return { ok: true, size, entries: budget.entries, bytes: budget.bytes };
  } catch (e) {
    writer.abort();
    abortAll(s);
    const x = e as BerthError & NodeJS.ErrnoException;
    return { ok: false, error: { name: x.name, message: x.message, code: x.code, errno: x.errno, syscall: x.syscall, path: x.path, step: x.step, hint: x.hint } };
  }
}

// A worker takes one job at a time, for as long as the main thread keeps it.
const port = parentPort;
if (port && (workerData as { berthUnpack?: boolean } | undefined)?.berthUnpack) port.on('message', (job: UnpackJob) => port.postMessage(run(job)));

// ---- The main thread.

/** Blobs this large go to a worker thread: below it, starting one costs more than it saves. */
export const WORKER_MIN_BYTES = 32 << 20;
const workerFile = fileURLToPath(new URL('./unpack-worker.js', import.meta.url));

type WaitAsync = (a: Int32Array, i: number, v: number) => { async: boolean; value: Promise<string> | string };
const waitAsync = (Atomics as unknown as { waitAsync?: WaitAsync }).waitAsync;

/** How many bytes of this blob to unpack on a worker: 0 unless large, uncompressed, in a file, and the worker's file is there (not in a bundle). */
export function onWorker(region: FileRegion, gzip: boolean, min = WORKER_MIN_BYTES): number {
  if (gzip || !waitAsync || !existsSync(workerFile)) return 0;
  const size = Math.min(region.length, statSync(region.path).size - region.start);
  return size > 0 && size >= min ? size : 0;
}

/**
 * Workers kept between layers and imports. A worker costs 50-80 ms to start
 * on a small machine, and its first layer pays for compiling the reader and
 * writer again (V8 compiles per thread): an import of several large layers,
 * or a program that imports again, gets a warm one. An idle worker is
 * unref'd (it never keeps the process alive) and ends after IDLE_MS.
 */
const IDLE_MS = 10_000;
/** A worker and its ring (kept too: 16 MiB faulted in once). */
interface Kept {
  worker: Worker;
  sab: SharedArrayBuffer;
}
const idle: (Kept & { timer: NodeJS.Timeout })[] = [];

function takeWorker(): Kept {
  const kept = idle.pop();
  if (kept) {
    clearTimeout(kept.timer);
    kept.worker.ref();
    views(kept.sab).state.fill(Slot.FREE);
    return kept;
  }
  const worker = new Worker(workerFile, { workerData: { berthUnpack: true } });
  worker.on('error', () => {}); // an idle worker's; a job's own listener reports one during the job
  worker.once('exit', () => {
    const i = idle.findIndex((k) => k.worker === worker);
    if (i >= 0) clearTimeout(idle.splice(i, 1)[0]!.timer);
  });
  return { worker, sab: new SharedArrayBuffer(DATA + SLOTS * SLOT_BYTES) };
}

/** A worker back from a job that went well: kept idle (one is enough), or ended. */
function keepWorker(k: Kept): void {
  if (idle.length) {
    void k.worker.terminate();
    return;
  }
  k.worker.unref();
  const timer = setTimeout(() => {
    const i = idle.findIndex((x) => x.worker === k.worker);
    if (i >= 0) idle.splice(i, 1);
    void k.worker.terminate();
  }, IDLE_MS);
  timer.unref();
  idle.push({ ...k, timer });
}

/** Unpacks `length` bytes of `region` into dir on a worker thread; resolves with their size and sha256. */
export async function unpackOnWorker(region: FileRegion, length: number, dir: string, budget: Budget, onBytes?: (n: number) => void): Promise<{ size: number; hex: string }> {
  const fd = openSync(region.path, 'r');
  const kept = takeWorker();
  const { worker, sab } = kept;
  const s = views(sab);
  const job: UnpackJob = { dir, limits: budget.limits, entries: budget.entries, bytes: budget.bytes, shared: sab };
  let onMessage!: (r: UnpackResult) => void;
  let onError!: (e: Error) => void;
  let onExit!: (code: number) => void;
  const result = new Promise<UnpackResult>((resolve, reject) => {
    onMessage = resolve;
    onError = reject;
    onExit = (code) => reject(new Error(`the unpack worker exited (${code}) without a result`));
    worker.once('message', onMessage);
    worker.once('error', onError);
    worker.once('exit', onExit);
  });
  worker.postMessage(job);
  let gone = false; // the worker has answered, or died
  let ok = false;
  const settled = result.then(() => (gone = true), () => (gone = true));
  const hash = createHash('sha256');
  try {
    let pos = region.start;
    let left = length;
    for (let slot = 0; ; slot = (slot + 1) % SLOTS) {
      let v = Atomics.load(s.state, slot);
      while (v === Slot.READ && !gone) {
        const w = waitAsync!(s.state, slot, v);
        if (w.async) await Promise.race([w.value, settled]);
        v = Atomics.load(s.state, slot);
      }
      if (v !== Slot.FREE) break; // ABORT, or the worker is gone: it says why
      const view = s.slot(slot, Math.min(SLOT_BYTES, left));
      const n = left > 0 ? readSync(fd, view, 0, view.length, pos) : 0;
      if (n === 0) {
        Atomics.store(s.state, slot, Slot.END);
        Atomics.notify(s.state, slot);
        break;
      }
      hash.update(view.subarray(0, n));
      pos += n;
      left -= n;
      s.lens[slot] = n;
      Atomics.store(s.state, slot, Slot.READ);
      Atomics.notify(s.state, slot);
      onBytes?.(n);
    }
    const r = await result;
    if (!r.ok) throw rebuild(r.error);
    budget.entries = r.entries;
    budget.bytes = r.bytes;
    ok = true;
    return { size: r.size, hex: hash.digest('hex') };
  } catch (e) {
    // A failed read (or progress callback) here: the worker stops at its next slot and closes what it has open.
    abortAll(s);
    await settled;
    throw e;
  } finally {
    closeSync(fd);
    worker.off('message', onMessage);
    worker.off('error', onError);
    worker.off('exit', onExit);
    // A worker whose job failed is not kept: whatever went wrong stays with it.
    if (ok) keepWorker(kept);
    else await worker.terminate();
  }
}
