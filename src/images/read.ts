// A file region as chunks read synchronously on the calling thread. A blob
// is read once, front to back, mostly from the page cache: a 1 MiB read(2)
// is a memcpy, and doing it here saves a hand-off to the libuv pool and
// back for every chunk, which on a busy machine is where an import waits.
import { closeSync, openSync, readSync } from 'node:fs';

const CHUNK = 1 << 20;

export function* fileChunks(path: string, start = 0, length = Infinity): Generator<Buffer> {
  const fd = openSync(path, 'r');
  try {
    let pos = start;
    let left = length;
    while (left > 0) {
      const buf = Buffer.allocUnsafe(Math.min(CHUNK, left));
      const n = readSync(fd, buf, 0, buf.length, pos);
      if (n === 0) return;
      pos += n;
      left -= n;
      yield n === buf.length ? buf : buf.subarray(0, n);
    }
  } finally {
    closeSync(fd);
  }
}
