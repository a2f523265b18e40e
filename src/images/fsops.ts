// A batch of file-system syscalls for the addon's fsOps (native/addon/fsops.cc):
// the layer writer queues what its entries need and runs them a chunk at a
// time, one call into the addon instead of one call into Node's fs per
// syscall. Paths are relative to the batch's directory fd; strings are
// NUL-terminated in one buffer; file content is an offset into the chunk
// the entries came in (valid until the tar reader reuses it: run() before).
import { closeSync, constants as C, openSync } from 'node:fs';
import { native } from '../native.js';

/** The op codes, as native/addon/fsops.cc numbers them; the comment lists the arguments. */
export const Op = {
  open: 1, // path, flags, mode
  write: 2, // dataOffset, length
  fchown: 3, // uid, gid
  fchmod: 4, // mode
  fsetxattr: 5, // name, valueOffset, valueLength
  futimens: 6, // seconds, nanoseconds
  close: 7,
  mkdir: 8, // path, mode
  symlink: 9, // target, path
  link: 10, // existing, new
  mknod: 11, // path, mode, major, minor
  lchown: 12, // path, uid, gid
  chmod: 13, // path, mode
  lsetxattr: 14, // path, name, valueOffset, valueLength
  lutimens: 15, // path, seconds, nanoseconds
} as const;
export type OpCode = (typeof Op)[keyof typeof Op];
const WIDTH = 5;

/** What a failed op threw: a Node-style error naming the op. */
export interface OpError extends NodeJS.ErrnoException {
  index: number;
  fd: number;
}

export class FsBatch {
  private ops = new Float64Array(WIDTH * 1024);
  private n = 0;
  private strings = Buffer.allocUnsafe(64 << 10);
  private sLen = 0;
  private data: Buffer | null = null;
  /** The fd the ops left open (a file split across chunks), or -1. */
  fd = -1;
  /** The directory the paths are relative to, opened by the first run. */
  private dirfd = -1;

  constructor(readonly root: string) {}

  get length(): number {
    return this.n;
  }

  /** A string argument: its offset in the strings buffer. */
  str(s: string): number {
    const need = this.sLen + s.length * 3 + 1;
    if (need > this.strings.length) this.grow(need);
    const at = this.sLen;
    this.sLen += this.strings.write(s, at);
    this.strings[this.sLen++] = 0;
    return at;
  }

  /** A byte-string argument (an xattr value): its offset; the length is the caller's. */
  bytes(b: Buffer): number {
    const need = this.sLen + b.length;
    if (need > this.strings.length) this.grow(need);
    const at = this.sLen;
    b.copy(this.strings, at);
    this.sLen += b.length;
    return at;
  }

  /** File content: where it is in `chunk`, which the batch then refers to. A batch holds one chunk's content: run it before content from the next. */
  content(chunk: Buffer, start: number, length: number): void {
    if (this.data !== chunk && this.data !== null) throw new Error('fsOps batch: content from a second chunk before the batch ran');
    this.data = chunk;
    this.push(Op.write, start, length);
  }

  push(op: OpCode, a = 0, b = 0, c = 0, d = 0): void {
    if (this.n * WIDTH === this.ops.length) {
      const bigger = new Float64Array(this.ops.length * 2);
      bigger.set(this.ops);
      this.ops = bigger;
    }
    const o = this.n++ * WIDTH;
    const ops = this.ops;
    ops[o] = op;
    ops[o + 1] = a;
    ops[o + 2] = b;
    ops[o + 3] = c;
    ops[o + 4] = d;
  }

  /** The op code at index i (for a caller deciding about a failure). */
  op(i: number): number {
    return this.ops[i * WIDTH]!;
  }

  /**
   * Runs the queued ops from `from`. On a failure the ops before it are done,
   * the batch keeps the rest (resume with run(index) or run(index + 1)) and
   * the error carries the index; the caller clear()s when it gives up.
   */
  run(from = 0): void {
    if (this.n > from) {
      if (this.dirfd < 0) this.dirfd = openSync(this.root, C.O_RDONLY | C.O_DIRECTORY);
      const ops = from ? this.ops.subarray(from * WIDTH) : this.ops;
      try {
        this.fd = native().fsOps(this.dirfd, this.root, ops, this.n - from, this.strings, this.data, this.fd);
      } catch (e) {
        const err = e as OpError;
        if (typeof err.index === 'number') {
          err.index += from;
          this.fd = err.fd;
        }
        throw err;
      }
    }
    this.clear();
  }

  clear(): void {
    this.n = 0;
    this.sLen = 0;
    this.data = null;
  }

  /** Closes the batch's fds (the directory's, and a file's left open by a failure); again, it does nothing. */
  close(): void {
    this.clear();
    // The file's fd was opened by the addon, not by fs (which, on a worker thread, tracks its own).
    if (this.fd >= 0) native().close(this.fd);
    if (this.dirfd >= 0) closeSync(this.dirfd);
    this.fd = this.dirfd = -1;
  }

  private grow(need: number): void {
    const b = Buffer.allocUnsafe(Math.max(need, this.strings.length * 2));
    this.strings.copy(b, 0, 0, this.sLen);
    this.strings = b;
  }
}
