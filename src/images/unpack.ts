// Writes the entries of one layer tar into a directory, faithfully: files,
// directories, symlinks, hardlinks, device nodes, fifos, modes, owners,
// mtimes and xattrs; whiteouts become overlayfs whiteouts (a 0:0 character
// device) and opaque markers the trusted.overlay.opaque xattr.
//
// The file system calls are synchronous on purpose: each is one short
// syscall on a local disk, and going through the libuv thread pool for tens
// of thousands of small files costs more than it saves (see bench/images.ts).
import {
  closeSync, constants as C, fchmodSync, fchownSync, futimesSync, lchownSync, linkSync, lstatSync, lutimesSync,
  mkdirSync, openSync, readFileSync, symlinkSync, unlinkSync, writeSync, chmodSync,
} from 'node:fs';
import type { Readable } from 'node:stream';
import { native } from '../native.js';
import { imageError, limitError } from './errors.js';
import { LayerTree, entryParts } from './paths.js';
import { entryMtime, entryOwner, entryXattrs, type Headers } from './tar.js';

const WH = '.wh.';
const OPAQUE = '.wh..wh..opq';
const S_IFCHR = 0o020000;
const S_IFBLK = 0o060000;
const S_IFIFO = 0o010000;

export interface Limits {
  /** Most bytes of uncompressed tar data for the whole import. */
  maxBytes: number;
  /** Most entries for the whole import. */
  maxEntries: number;
}

/** Counts entries across the layers of one import, against the limits. */
export class Budget {
  entries = 0;
  bytes = 0;
  constructor(readonly limits: Limits) {}
  entry(): void {
    if (++this.entries > this.limits.maxEntries) throw limitError('entries', 'maxEntries', this.limits.maxEntries);
  }
  data(n: number): void {
    this.bytes += n;
    if (this.bytes > this.limits.maxBytes) throw limitError('bytes of layer data', 'maxBytes', this.limits.maxBytes);
  }
}

interface DirMeta {
  abs: string;
  mtime: number;
}

export class LayerWriter {
  private tree: LayerTree;
  private dirTimes: DirMeta[] = [];
  private rootMeta = false;
  /** Directories made setgid: files in them take the directory's group. */
  private sgid = new Set<string>();
  private umask = processUmask();
  private euid = process.geteuid?.() ?? -1;
  private egid = process.getegid?.() ?? -1;

  constructor(root: string, private budget: Budget) {
    this.tree = new LayerTree(root);
  }

  /** Handles one entry; `data` is its content stream (drained here for non-files). */
  async entry(h: Headers, data: Readable): Promise<void> {
    this.budget.entry();
    const parts = entryParts(h.name);
    const base = parts.at(-1) ?? '';
    if (base.startsWith(WH)) {
      await drain(data);
      return this.whiteout(parts, h.name);
    }
    const rel = parts.join('/');
    if (rel === '') {
      // The layer's own root ("./"): only its metadata.
      await drain(data);
      if (h.type === 'directory') {
        this.meta(this.tree.root, h, true);
        this.rootMeta = true;
      }
      return;
    }
    this.tree.parent(parts, h.name);
    const abs = this.tree.abs(rel);
    switch (h.type) {
      case 'file':
      case 'contiguous-file':
        return this.file(rel, abs, h, data);
      case 'directory':
        await drain(data);
        return this.dir(rel, abs, h);
      case 'symlink':
        await drain(data);
        this.create(rel, abs, () => symlinkSync(h.linkname ?? '', abs));
        return this.meta(abs, h, false);
      case 'link':
        await drain(data);
        return this.hardlink(rel, abs, h);
      case 'character-device':
      case 'block-device':
      case 'fifo': {
        await drain(data);
        const type = h.type === 'fifo' ? S_IFIFO : h.type === 'block-device' ? S_IFBLK : S_IFCHR;
        this.create(rel, abs, () => native().mknod(abs, type | ((h.mode ?? 0o644) & 0o7777), h.devmajor ?? 0, h.devminor ?? 0));
        return this.meta(abs, h, true);
      }
      default:
        throw imageError('EINVAL', `layer entry has an unsupported type ${JSON.stringify(h.type)}`, { path: h.name });
    }
  }

  /** Directory mtimes last: creating their children changed them. */
  finish(): void {
    // A layer without a "./" entry gets the usual root mode, not mkdtemp's 0700.
    if (!this.rootMeta) chmodSync(this.tree.root, 0o755);
    for (let i = this.dirTimes.length - 1; i >= 0; i--) {
      const d = this.dirTimes[i]!;
      lutimesSync(d.abs, d.mtime, d.mtime);
    }
  }

  private whiteout(parts: string[], name: string): void {
    const base = parts.at(-1)!;
    this.tree.parent(parts, name);
    const dirRel = parts.slice(0, -1).join('/');
    if (base === OPAQUE) {
      native().lsetxattr(this.tree.abs(dirRel), 'trusted.overlay.opaque', Buffer.from('y'));
      return;
    }
    const hidden = base.slice(WH.length);
    if (!hidden || hidden === '.' || hidden === '..') throw imageError('EINVAL', 'bad whiteout entry', { path: name });
    const rel = dirRel ? `${dirRel}/${hidden}` : hidden;
    this.replace(rel, this.tree.abs(rel));
    native().mknod(this.tree.abs(rel), S_IFCHR, 0, 0);
  }

  /** Makes a new name; if the name is taken, replaces what is there (never writing through it). */
  private create(rel: string, abs: string, make: () => void): void {
    try {
      make();
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      this.replace(rel, abs);
      make();
    }
  }

  /** Clears the way for a new entry at rel (a later entry replaces an earlier one, as tar does). */
  private replace(rel: string, abs: string): void {
    if (this.tree.isDir(rel)) return this.tree.remove(rel);
    try {
      unlinkSync(abs);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return;
      if (code === 'EISDIR' || code === 'EPERM') return this.tree.remove(rel);
      throw e;
    }
  }

  private async file(rel: string, abs: string, h: Headers, data: Readable): Promise<void> {
    const flags = C.O_WRONLY | C.O_CREAT | C.O_EXCL | C.O_NOFOLLOW;
    const mode = (h.mode ?? 0o644) & 0o7777;
    // Created with its mode, in our private 0700 directory: no fchmod when the umask took nothing away.
    let fd: number;
    try {
      fd = openSync(abs, flags, mode & 0o777);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      this.replace(rel, abs);
      fd = openSync(abs, flags, mode & 0o777);
    }
    try {
      await new Promise<void>((resolve, reject) => {
        data.on('data', (chunk: Buffer) => {
          try {
            let off = 0;
            while (off < chunk.length) off += writeSync(fd, chunk, off);
          } catch (e) {
            reject(e);
            data.destroy(e as Error);
          }
        });
        data.on('end', resolve);
        data.on('error', reject);
      });
      const { uid, gid } = entryOwner(h);
      // A new file is ours (root:root) unless its directory is setgid.
      const parent = rel.includes('/') ? rel.slice(0, rel.lastIndexOf('/')) : '';
      if (uid !== this.euid || gid !== this.egid || this.sgid.has(parent)) fchownSync(fd, uid, gid);
      // chown clears setuid/setgid: those modes, and whatever the umask masked, are set now.
      if (mode & 0o7000 || mode & this.umask) fchmodSync(fd, mode);
      this.xattrs(abs, h);
      const t = entryMtime(h);
      futimesSync(fd, t, t);
    } finally {
      closeSync(fd);
    }
  }

  private dir(rel: string, abs: string, h: Headers): void {
    if (!this.tree.isDir(rel)) {
      try {
        mkdirSync(abs, 0o700);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        const st = lstatSync(abs);
        if (!st.isDirectory()) {
          this.replace(rel, abs);
          mkdirSync(abs, 0o700);
        }
      }
      this.tree.addDir(rel);
    }
    if ((h.mode ?? 0) & 0o2000) this.sgid.add(rel);
    else this.sgid.delete(rel);
    this.meta(abs, h, true);
  }

  private hardlink(rel: string, abs: string, h: Headers): void {
    const tparts = entryParts(h.linkname ?? '', 'hardlink target');
    const trel = tparts.join('/');
    if (!trel) throw imageError('EPERM', 'hardlink to the layer root', { path: h.name });
    this.tree.checkParents(tparts, h.linkname ?? '');
    const tabs = this.tree.abs(trel);
    const st = lstatSync(tabs, { throwIfNoEntry: false });
    if (!st) throw imageError('ENOENT', `hardlink target '${h.linkname}' is not in the layer`, { path: h.name });
    if (st.isDirectory()) throw imageError('EPERM', `hardlink to the directory '${h.linkname}'`, { path: h.name });
    if (trel === rel) return;
    // link(2) does not follow a symlink target: the new name is the same inode.
    this.create(rel, abs, () => linkSync(tabs, abs));
  }

  /** Owner, mode, xattrs, mtime, in that order (chown clears setuid bits and security.capability). */
  private meta(abs: string, h: Headers, chmod: boolean): void {
    const { uid, gid } = entryOwner(h);
    lchownSync(abs, uid, gid);
    if (chmod) chmodSync(abs, (h.mode ?? 0o755) & 0o7777);
    this.xattrs(abs, h);
    const t = entryMtime(h);
    if (h.type === 'directory') this.dirTimes.push({ abs, mtime: t });
    else lutimesSync(abs, t, t);
  }

  private xattrs(abs: string, h: Headers): void {
    const x = entryXattrs(h);
    if (!x) return;
    for (const [name, value] of x) native().lsetxattr(abs, name, value);
  }
}

async function drain(s: Readable): Promise<void> {
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  for await (const _ of s as AsyncIterable<Buffer>);
}

/** The process umask, read without changing it (process.umask() with no argument is deprecated). */
function processUmask(): number {
  try {
    const m = /^Umask:\s+([0-7]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return parseInt(m[1]!, 8);
  } catch {
    // no /proc: assume the worst, chmod every file
  }
  return 0o777;
}
