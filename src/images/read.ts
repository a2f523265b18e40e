// A file region (a blob in a layout directory, or a member of an image
// tar), read synchronously on the calling thread. A blob is read once,
// front to back, mostly from the page cache: a 1 MiB read(2) is a memcpy,
// and doing it here saves a hand-off to the libuv pool and back for every
// chunk. Iterated, it yields fresh buffers (safe to keep, for zlib);
// reuse() yields the same buffer every time, for a consumer that is done
// with each chunk before asking for the next (the tar reader), which saves
// faulting in a megabyte of new memory per chunk.
import { closeSync, openSync, readSync } from 'node:fs';

const CHUNK = 1 << 20;

export class FileRegion implements Iterable<Buffer> {
  constructor(readonly path: string, readonly start = 0, readonly length = Infinity) {}

  [Symbol.iterator](): Generator<Buffer> {
    return this.read(false);
  }

  reuse(): Generator<Buffer> {
    return this.read(true);
  }

  private *read(reuse: boolean): Generator<Buffer> {
    const fd = openSync(this.path, 'r');
    try {
      let pos = this.start;
      let left = this.length;
      let shared: Buffer | undefined;
      while (left > 0) {
        const want = Math.min(CHUNK, left);
        const buf = reuse ? (shared ??= Buffer.allocUnsafeSlow(CHUNK)) : Buffer.allocUnsafe(want);
        const n = readSync(fd, buf, 0, want, pos);
        if (n === 0) return;
        pos += n;
        left -= n;
        yield n === buf.length ? buf : buf.subarray(0, n);
      }
    } finally {
      closeSync(fd);
    }
  }
}

export function fileChunks(path: string, start = 0, length = Infinity): FileRegion {
  return new FileRegion(path, start, length);
}
