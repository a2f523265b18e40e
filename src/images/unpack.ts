// Writes the entries of one layer tar into a directory, faithfully: files,
// directories, symlinks, hardlinks, device nodes, fifos, modes, owners,
// mtimes and xattrs; whiteouts become overlayfs whiteouts (a 0:0 character
// device) and opaque markers the trusted.overlay.opaque xattr.
//
// It is the sink of the tar reader (untar.ts): begin, data, end, all
// synchronous, on the calling thread. Each is one short syscall on a local
// disk, and going through the libuv thread pool for tens of thousands of
// small files costs more than it saves (see bench/images.ts). A file costs
// open, write, futimes and close, plus fchown or fchmod only when the
// entry's owner or mode needs them.
import {
  closeSync, constants as C, fchmodSync, fchownSync, futimesSync, lchownSync, linkSync, lstatSync, lutimesSync,
  mkdirSync, openSync, readFileSync, symlinkSync, unlinkSync, writeSync, chmodSync,
} from 'node:fs';
import { native } from '../native.js';
import { imageError, limitError } from './errors.js';
import { LayerTree, entryParts } from './paths.js';
import type { EntrySink, TarEntry } from './untar.js';

type Headers = TarEntry;

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

export class LayerWriter implements EntrySink {
  private tree: LayerTree;
  private dirTimes: DirMeta[] = [];
  private rootMeta = false;
  /** Directories made setgid: files in them take the directory's group. */
  private sgid = new Set<string>();
  private umask = processUmask();
  private euid = process.geteuid?.() ?? -1;
  private egid = process.getegid?.() ?? -1;
  /** The file being written: its fd, entry and path; data() goes there. */
  private fd = -1;
  private cur?: { h: Headers; rel: string; abs: string };

  constructor(root: string, private budget: Budget) {
    this.tree = new LayerTree(root);
  }

  /** One entry's header: everything but a file's content, which data() brings and end() closes. */
  begin(h: Headers): void {
    this.budget.entry();
    const parts = entryParts(h.name);
    const base = parts.at(-1) ?? '';
    if (base.startsWith(WH)) return this.whiteout(parts, h.name);
    const rel = parts.join('/');
    if (rel === '') {
      // The layer's own root ("./"): only its metadata.
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
        return this.open(rel, abs, h);
      case 'directory':
        return this.dir(rel, abs, h);
      case 'symlink': {
        this.create(rel, abs, () => symlinkSync(h.linkname, abs));
        const parent = rel.includes('/') ? rel.slice(0, rel.lastIndexOf('/')) : '';
        return this.meta(abs, h, false, !this.sgid.has(parent));
      }
      case 'link':
        return this.hardlink(rel, abs, h);
      case 'character-device':
      case 'block-device':
      case 'fifo': {
        const type = h.type === 'fifo' ? S_IFIFO : h.type === 'block-device' ? S_IFBLK : S_IFCHR;
        this.create(rel, abs, () => native().mknod(abs, type | (h.mode & 0o7777), h.devmajor, h.devminor));
        return this.meta(abs, h, true);
      }
      default:
        throw imageError('EINVAL', `layer entry has an unsupported type ${JSON.stringify(h.flag)}`, { path: h.name });
    }
  }

  data(b: Buffer): void {
    if (this.fd < 0) return; // content of an entry that is not a file: skipped
    let off = 0;
    while (off < b.length) off += writeSync(this.fd, b, off);
  }

  end(): void {
    if (this.fd < 0) return;
    const fd = this.fd;
    const { h, rel, abs } = this.cur!;
    this.fd = -1;
    this.cur = undefined;
    try {
      const mode = h.mode & 0o7777;
      // A new file is ours (root:root) unless its directory is setgid.
      const parent = rel.includes('/') ? rel.slice(0, rel.lastIndexOf('/')) : '';
      if (h.uid !== this.euid || h.gid !== this.egid || this.sgid.has(parent)) fchownSync(fd, h.uid, h.gid);
      // chown clears setuid/setgid: those modes, and whatever the umask masked, are set now.
      if (mode & 0o7000 || mode & this.umask) fchmodSync(fd, mode);
      this.xattrs(abs, h);
      futimesSync(fd, h.mtime, h.mtime);
    } finally {
      closeSync(fd);
    }
  }

  /** Closes a file left open by a failed import. */
  abort(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
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

  private open(rel: string, abs: string, h: Headers): void {
    const flags = C.O_WRONLY | C.O_CREAT | C.O_EXCL | C.O_NOFOLLOW;
    const mode = h.mode & 0o777;
    // Created with its mode, in our private 0700 directory: no fchmod when the umask took nothing away.
    try {
      this.fd = openSync(abs, flags, mode);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      this.replace(rel, abs);
      this.fd = openSync(abs, flags, mode);
    }
    this.cur = { h, rel, abs };
  }

  private dir(rel: string, abs: string, h: Headers): void {
    let fresh = false;
    if (!this.tree.isDir(rel)) {
      // Made with its mode (root may write into it whatever the mode says).
      try {
        mkdirSync(abs, h.mode & 0o777);
        fresh = true;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        const st = lstatSync(abs);
        if (!st.isDirectory()) {
          this.replace(rel, abs);
          mkdirSync(abs, h.mode & 0o777);
          fresh = true;
        }
      }
      this.tree.addDir(rel);
    }
    const parent = rel.includes('/') ? rel.slice(0, rel.lastIndexOf('/')) : '';
    const ours = fresh && !this.sgid.has(parent);
    if (h.mode & 0o2000) this.sgid.add(rel);
    else this.sgid.delete(rel);
    this.meta(abs, h, !ours || !!(h.mode & 0o7000) || !!(h.mode & this.umask), ours);
  }

  private hardlink(rel: string, abs: string, h: Headers): void {
    const tparts = entryParts(h.linkname, 'hardlink target');
    const trel = tparts.join('/');
    if (!trel) throw imageError('EPERM', 'hardlink to the layer root', { path: h.name });
    this.tree.checkParents(tparts, h.linkname);
    const tabs = this.tree.abs(trel);
    const st = lstatSync(tabs, { throwIfNoEntry: false });
    if (!st) throw imageError('ENOENT', `hardlink target '${h.linkname}' is not in the layer`, { path: h.name });
    if (st.isDirectory()) throw imageError('EPERM', `hardlink to the directory '${h.linkname}'`, { path: h.name });
    if (trel === rel) return;
    // link(2) does not follow a symlink target: the new name is the same inode.
    this.create(rel, abs, () => linkSync(tabs, abs));
  }

  /** Owner, mode, xattrs, mtime, in that order (chown clears setuid bits and security.capability). */
  private meta(abs: string, h: Headers, chmod: boolean, fresh = false): void {
    // Just made by us, outside a setgid directory: already ours (root:root), no chown needed.
    if (!fresh || h.uid !== this.euid || h.gid !== this.egid) lchownSync(abs, h.uid, h.gid);
    if (chmod) chmodSync(abs, h.mode & 0o7777);
    this.xattrs(abs, h);
    if (h.type === 'directory') this.dirTimes.push({ abs, mtime: h.mtime });
    else lutimesSync(abs, h.mtime, h.mtime);
  }

  private xattrs(abs: string, h: Headers): void {
    if (!h.xattrs) return;
    for (const [name, value] of h.xattrs) native().lsetxattr(abs, name, value);
  }
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
