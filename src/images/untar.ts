// A synchronous tar reader for layers: chunks go in with push(), entries
// come out as begin / data / end calls on a sink, on the same thread and in
// the same call. File content is handed on as slices of the chunk (no copy,
// no stream per entry), so a chunk may be reused once push() returns. It
// reads what layers are written in: POSIX ustar and pax (local and global
// records: path, linkpath, size, uid, gid, mtime, SCHILY.xattr.* and
// LIBARCHIVE.xattr.* kept as raw bytes), GNU long names and links, base-256
// numbers, and old v7 directories ("name/"). Sparse files and multi-volume
// archives are refused by type.
import { imageError } from './errors.js';

export type EntryType =
  | 'file' | 'link' | 'symlink' | 'character-device' | 'block-device' | 'directory' | 'fifo' | 'contiguous-file' | 'unsupported';

export interface TarEntry {
  name: string;
  type: EntryType;
  /** The type flag as found, for errors about unsupported ones. */
  flag: string;
  mode: number;
  uid: number;
  gid: number;
  /** Seconds since the epoch, fractional with pax. */
  mtime: number;
  size: number;
  linkname: string;
  devmajor: number;
  devminor: number;
  xattrs?: Map<string, Buffer>;
}

export interface EntrySink {
  begin(e: TarEntry): void;
  /** The entry's content, in order: `length` bytes of `chunk` from `start` (files; other types' content, if any, too). */
  data(chunk: Buffer, start: number, length: number): void;
  end(): void;
  /** The chunk given to push() is done with: push() returns next, and the chunk may be reused. */
  chunkEnd?(): void;
}

const TYPES: Record<string, EntryType> = {
  '0': 'file', '\0': 'file', '1': 'link', '2': 'symlink', '3': 'character-device', '4': 'block-device',
  '5': 'directory', '6': 'fifo', '7': 'contiguous-file',
};
const MAX_META = 1 << 20;
const BLOCK = 512;

function num(b: Buffer, off: number, len: number, where: () => string): number {
  const first = b[off]!;
  if (first & 0x80) {
    if (first === 0xff) throw imageError('EBADMSG', `negative number in a tar header at ${where()}`);
    let v = first & 0x7f;
    for (let i = off + 1; i < off + len; i++) v = v * 256 + b[i]!;
    return v;
  }
  let v = 0;
  let i = off;
  const end = off + len;
  while (i < end && (b[i] === 0x20 || b[i] === 0)) i++; // leading spaces (and NULs, as some writers pad)
  for (; i < end; i++) {
    const c = b[i]!;
    if (c < 0x30 || c > 0x37) break;
    v = v * 8 + (c - 0x30);
  }
  return v;
}

function str(b: Buffer, off: number, len: number): string {
  let end = off;
  const max = off + len;
  while (end < max && b[end] !== 0) end++;
  return b.toString('utf8', off, end);
}

/** The pax keys an entry takes (others, such as atime and ctime, are not kept). */
const PAX_KEYS = new Set(['path', 'linkpath', 'size', 'uid', 'gid', 'mtime']);

/** pax records "len key=value\n" in b[0, end): string values, and the xattrs as raw bytes. */
function pax(b: Buffer, end: number, into: Map<string, string>, xattrs: Map<string, Buffer>): void {
  let pos = 0;
  while (pos < end) {
    let len = 0;
    let i = pos;
    for (let c = b[i]!; i < end && c >= 0x30 && c <= 0x39; c = b[++i]!) len = len * 10 + (c - 0x30);
    if (i === pos && b.indexOf(0x20, pos) < 0) break; // padding after the last record
    if (i === pos || b[i] !== 0x20 || len <= 0 || pos + len > end) throw imageError('EBADMSG', 'corrupt pax header record');
    const recEnd = pos + len - 1; // without the newline
    const eq = b.indexOf(0x3d, i + 1);
    if (eq > i + 1 && eq < recEnd) {
      const key = b.toString('utf8', i + 1, eq);
      if (PAX_KEYS.has(key)) into.set(key, b.toString('utf8', eq + 1, recEnd));
      else if (key.startsWith('SCHILY.xattr.')) xattrs.set(key.slice(13), Buffer.from(b.subarray(eq + 1, recEnd)));
      else if (key.startsWith('LIBARCHIVE.xattr.')) xattrs.set(decodeURIComponent(key.slice(17)), Buffer.from(b.toString('latin1', eq + 1, recEnd), 'base64'));
    }
    pos += len;
  }
}

/** The sum of a block's bytes. */
function sumBytes(b: Buffer, o: number): number {
  let sum = 0;
  for (let i = o; i < o + BLOCK; i++) sum += b[i]!;
  return sum;
}

/** The same, a word at a time: two 16-bit lanes of byte pairs (at most 128 × 2 × 255 each, no carry). */
function sumWords(w: Uint32Array, at: number): number {
  let lanes = 0;
  for (let i = at; i < at + BLOCK / 4; i++) {
    const x = w[i]!;
    lanes += (x & 0x00ff00ff) + ((x >>> 8) & 0x00ff00ff);
  }
  return (lanes & 0xffff) + (lanes >>> 16);
}

export class TarParser {
  /** Bytes of the archive seen (for error positions). */
  private pos = 0;
  private state: 'header' | 'data' | 'meta' | 'pad' | 'end' = 'header';
  /** The chunk being parsed as 32-bit words, when it is aligned. */
  private words?: Uint32Array;
  /** A header split across chunks. */
  private hdr = Buffer.alloc(BLOCK);
  private hdrLen = 0;
  /** Left of the current entry's content, then of its padding. */
  private left = 0;
  private padLeft = 0;
  /** A pax record or GNU long name being read: into metaBuf, reused. */
  private meta?: { flag: string; size: number; len: number };
  private metaBuf = Buffer.alloc(4096);
  private longName?: string;
  private longLink?: string;
  private local = new Map<string, string>();
  private localX = new Map<string, Buffer>();
  private global = new Map<string, string>();
  private globalX = new Map<string, Buffer>();

  constructor(private sink: EntrySink) {}

  push(chunk: Buffer): void {
    this.parse(chunk);
    this.sink.chunkEnd?.();
  }

  private parse(chunk: Buffer): void {
    // Headers in the chunk are summed four bytes at a time when it is aligned (it is, read from a file).
    this.words = chunk.byteOffset % 4 === 0 ? new Uint32Array(chunk.buffer, chunk.byteOffset, chunk.length >>> 2) : undefined;
    let off = 0;
    const n = chunk.length;
    while (off < n) {
      switch (this.state) {
        case 'end':
          this.pos += n - off;
          return;
        case 'header': {
          if (this.hdrLen === 0 && n - off >= BLOCK) {
            this.header(chunk, off, off % 4 === 0 ? this.words : undefined);
            off += BLOCK;
            this.pos += BLOCK;
          } else {
            const k = Math.min(BLOCK - this.hdrLen, n - off);
            chunk.copy(this.hdr, this.hdrLen, off, off + k);
            this.hdrLen += k;
            off += k;
            this.pos += k;
            if (this.hdrLen === BLOCK) {
              this.hdrLen = 0;
              this.header(this.hdr, 0);
            }
          }
          break;
        }
        case 'data': {
          const k = Math.min(this.left, n - off);
          this.sink.data(chunk, off, k);
          off += k;
          this.pos += k;
          this.left -= k;
          if (this.left === 0) this.endEntry();
          break;
        }
        case 'meta': {
          const m = this.meta!;
          const k = Math.min(this.left, n - off);
          chunk.copy(this.metaBuf, m.len, off, off + k);
          m.len += k;
          off += k;
          this.pos += k;
          this.left -= k;
          if (this.left === 0) this.endMeta();
          break;
        }
        case 'pad': {
          const k = Math.min(this.padLeft, n - off);
          off += k;
          this.pos += k;
          this.padLeft -= k;
          if (this.padLeft === 0) this.state = 'header';
          break;
        }
      }
    }
  }

  /** The archive is over: anything but a clean end (or the first block of one) is a truncation. */
  finish(): void {
    if (this.state !== 'end') throw imageError('EBADMSG', 'truncated archive');
  }

  private header(b: Buffer, o: number, words?: Uint32Array): void {
    const at = this.pos;
    // The checksum counts its own 8 bytes as spaces; an all-zero block sums to 0.
    const raw = words ? sumWords(words, o >>> 2) : sumBytes(b, o);
    if (raw === 0) {
      // The end-of-archive marker; what follows it is not read (as tar does).
      if (this.local.size || this.meta || this.longName !== undefined) throw imageError('EBADMSG', 'truncated archive (a header without its entry)');
      this.state = 'end';
      return;
    }
    const where = () => `byte ${at}`;
    let field = 0;
    for (let i = o + 148; i < o + 156; i++) field += b[i]!;
    const sum = raw - field + 8 * 0x20;
    const want = num(b, o + 148, 8, where);
    if (sum !== want) {
      // Some old writers summed signed bytes.
      let signed = 0;
      for (let i = o; i < o + BLOCK; i++) signed += i >= o + 148 && i < o + 156 ? 0x20 : (b[i]! << 24) >> 24;
      if (signed !== want) throw imageError('EBADMSG', `corrupt tar header at byte ${at} (not a tar, or compressed with something other than gzip)`);
    }
    const flag = String.fromCharCode(b[o + 156]!);
    const size = num(b, o + 124, 12, where);
    if (flag === 'x' || flag === 'g' || flag === 'L' || flag === 'K') {
      if (size > MAX_META) throw imageError('EBADMSG', `oversized tar header record at byte ${at}`);
      if (size > this.metaBuf.length) this.metaBuf = Buffer.alloc(Math.max(size, this.metaBuf.length * 2));
      this.meta = { flag, size, len: 0 };
      this.left = size;
      this.padLeft = (BLOCK - (size % BLOCK)) % BLOCK;
      if (size === 0) this.endMeta();
      else this.state = 'meta';
      return;
    }
    const l = this.local;
    const g = this.global;
    const get = (k: string) => l.get(k) ?? g.get(k);
    let name = get('path') ?? this.longName;
    if (name === undefined) {
      name = str(b, o, 100);
      // POSIX ustar ("ustar\0"): a prefix; GNU's "ustar " has other fields there.
      if (b[o + 257] === 0x75 && b[o + 258] === 0x73 && b[o + 259] === 0x74 && b[o + 260] === 0x61 && b[o + 261] === 0x72 && b[o + 262] === 0 && b[o + 345] !== 0) name = `${str(b, o + 345, 155)}/${name}`;
    }
    let type = TYPES[flag] ?? 'unsupported';
    if (type === 'file' && flag === '\0' && name.endsWith('/')) type = 'directory';
    const paxSize = get('size');
    const paxMtime = get('mtime');
    const paxUid = get('uid');
    const paxGid = get('gid');
    let xattrs: Map<string, Buffer> | undefined;
    if (this.localX.size || this.globalX.size) xattrs = new Map([...this.globalX, ...this.localX]);
    const e: TarEntry = {
      name,
      type,
      flag,
      mode: num(b, o + 100, 8, where),
      uid: paxUid !== undefined ? Number(paxUid) : num(b, o + 108, 8, where),
      gid: paxGid !== undefined ? Number(paxGid) : num(b, o + 116, 8, where),
      mtime: paxMtime !== undefined && Number.isFinite(Number(paxMtime)) ? Number(paxMtime) : num(b, o + 136, 12, where),
      size: paxSize !== undefined ? Number(paxSize) : size,
      linkname: get('linkpath') ?? this.longLink ?? str(b, o + 157, 100),
      devmajor: num(b, o + 329, 8, where),
      devminor: num(b, o + 337, 8, where),
      xattrs,
    };
    if (!Number.isSafeInteger(e.size) || e.size < 0) throw imageError('EBADMSG', `bad entry size in the tar header at byte ${at}`, { path: name });
    this.longName = this.longLink = undefined;
    if (l.size) l.clear();
    if (this.localX.size) this.localX = new Map();
    this.sink.begin(e);
    this.left = e.size;
    this.padLeft = (BLOCK - (e.size % BLOCK)) % BLOCK;
    if (e.size === 0) this.endEntry();
    else this.state = 'data';
  }

  private endEntry(): void {
    this.sink.end();
    this.state = this.padLeft ? 'pad' : 'header';
  }

  private endMeta(): void {
    const { flag, size } = this.meta!;
    const buf = this.metaBuf;
    this.meta = undefined;
    if (flag === 'x') pax(buf, size, this.local, this.localX);
    else if (flag === 'g') pax(buf, size, this.global, this.globalX);
    else {
      const s = str(buf, 0, size);
      if (flag === 'L') this.longName = s;
      else this.longLink = s;
    }
    this.state = this.padLeft ? 'pad' : 'header';
  }
}
