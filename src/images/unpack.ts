// Writes the entries of one layer tar into a directory, faithfully: files,
// directories, symlinks, hardlinks, device nodes, fifos, modes, owners,
// mtimes and xattrs; whiteouts become overlayfs whiteouts (a 0:0 character
// device) and opaque markers the trusted.overlay.opaque xattr.
//
// It is the sink of the tar reader (untar.ts): begin, data, end, all
// synchronous, on the calling thread. What an entry needs is queued as
// syscalls in a batch (fsops.ts), run by the addon in one call when the
// reader is done with a chunk: tens of thousands of small files cost no
// call into Node's fs per syscall. A file costs open, write, futimens and
// close, plus fchown or fchmod only when the entry's owner or mode needs
// them. Where a decision needs the file system as it is (a name already
// taken, an unknown parent, a hardlink's target, a whiteout), the batch is
// run first; a name found taken when the batch runs (EEXIST) is cleared the
// way tar does it, and the batch goes on from there.
import { constants as C, chmodSync, lchownSync, lstatSync, mkdirSync, readFileSync, unlinkSync } from 'node:fs';
import { native } from '../native.js';
import { imageError, limitError } from './errors.js';
import { FsBatch, Op, type OpCode, type OpError } from './fsops.js';
import { LayerTree, entryParts } from './paths.js';
import type { EntrySink, TarEntry } from './untar.js';

type Headers = TarEntry;

const WH = '.wh.';
const OPAQUE = '.wh..wh..opq';
const S_IFCHR = 0o020000;
const S_IFBLK = 0o060000;
const S_IFIFO = 0o010000;
const OPEN_FLAGS = C.O_WRONLY | C.O_CREAT | C.O_EXCL | C.O_NOFOLLOW;

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

/** seconds (fractional, from pax) → [seconds, nanoseconds] */
const timespec = (t: number): [number, number] => {
  const s = Math.floor(t);
  return [s, Math.min(999_999_999, Math.round((t - s) * 1e9))];
};
const parentOf = (rel: string) => (rel.includes('/') ? rel.slice(0, rel.lastIndexOf('/')) : '');

export class LayerWriter implements EntrySink {
  private tree: LayerTree;
  private batch: FsBatch;
  /** Directories ('' the root) and their mtimes, set last: creating their children changes them. */
  private dirTimes = new Map<string, number>();
  private rootMeta = false;
  /** Directories made setgid: files in them take the directory's group. */
  private sgid = new Set<string>();
  private umask = processUmask();
  private euid = process.geteuid?.() ?? -1;
  private egid = process.getegid?.() ?? -1;
  /** The file whose content data() brings and end() closes, and its path. */
  private cur?: Headers;
  private curRel = '';
  /** The queued ops that make a name (index → the entry's relative path): what an EEXIST is about. */
  private makers = new Map<number, string>();
  /** The headers of queued mkdirs, for a directory found there already. */
  private dirHeaders = new Map<number, Headers>();

  constructor(root: string, private budget: Budget) {
    this.tree = new LayerTree(root);
    this.batch = new FsBatch(root);
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
        this.meta('', h, true);
        this.rootMeta = true;
      }
      return;
    }
    if (!this.tree.knowsParent(parts)) {
      this.run(); // parent() looks at what is there
      this.tree.parent(parts, h.name);
    }
    if (h.type !== 'directory' && this.tree.isDir(rel)) {
      // A directory gives way to this entry now, not when the batch runs: entries after it must not go into it.
      this.run();
      this.replace(rel);
    }
    switch (h.type) {
      case 'file':
      case 'contiguous-file':
        this.make(rel, Op.open, this.batch.str(rel), OPEN_FLAGS, h.mode & 0o777);
        this.cur = h;
        this.curRel = rel;
        return;
      case 'directory':
        return this.dir(rel, h);
      case 'symlink': {
        if (h.linkname.includes('\0')) throw imageError('EINVAL', 'layer symlink has a NUL byte in its target', { path: h.name });
        this.make(rel, Op.symlink, this.batch.str(h.linkname), this.batch.str(rel));
        return this.meta(rel, h, false, !this.sgid.has(parentOf(rel)));
      }
      case 'link':
        return this.hardlink(rel, h);
      case 'character-device':
      case 'block-device':
      case 'fifo': {
        const type = h.type === 'fifo' ? S_IFIFO : h.type === 'block-device' ? S_IFBLK : S_IFCHR;
        this.make(rel, Op.mknod, this.batch.str(rel), type | (h.mode & 0o7777), h.devmajor, h.devminor);
        return this.meta(rel, h, true);
      }
      default:
        throw imageError('EINVAL', `layer entry has an unsupported type ${JSON.stringify(h.flag)}`, { path: h.name });
    }
  }

  data(chunk: Buffer, start: number, length: number): void {
    if (this.cur) this.batch.content(chunk, start, length); // other types' content is skipped
  }

  end(): void {
    const h = this.cur;
    if (!h) return;
    this.cur = undefined;
    const b = this.batch;
    const mode = h.mode & 0o7777;
    // A new file is ours (root:root) unless its directory is setgid.
    if (h.uid !== this.euid || h.gid !== this.egid || this.sgid.has(parentOf(this.curRel))) b.push(Op.fchown, h.uid, h.gid);
    // chown clears setuid/setgid: those modes, and whatever the umask masked, are set now.
    if (mode & 0o7000 || mode & this.umask) b.push(Op.fchmod, mode);
    if (h.xattrs) for (const [name, value] of h.xattrs) b.push(Op.fsetxattr, b.str(name), b.bytes(value), value.length);
    const [sec, nsec] = timespec(h.mtime);
    b.push(Op.futimens, sec, nsec);
    b.push(Op.close);
  }

  /** The reader is done with a chunk that queued content refers to: run the batch. */
  chunkEnd(): void {
    this.run();
  }

  /** Closes what a failed import left open. */
  abort(): void {
    this.batch.close();
  }

  /** Directory mtimes last: creating their children changed them. */
  finish(): void {
    // A layer without a "./" entry gets the usual root mode, not mkdtemp's 0700.
    if (!this.rootMeta) this.batch.push(Op.chmod, this.batch.str('.'), 0o755);
    this.run();
    // Only directories still there: one a later entry replaced (by a symlink, say) is not gone through.
    for (const [rel, mtime] of this.dirTimes)
      if (this.tree.isDir(rel)) this.batch.push(Op.lutimens, this.batch.str(rel || '.'), ...timespec(mtime));
    this.run();
    this.batch.close();
  }

  /**
   * Runs the batch. A name found taken (EEXIST) is cleared and the batch
   * goes on from that op; any other failure is the import's.
   */
  private run(): void {
    let from = 0;
    for (;;) {
      try {
        this.batch.run(from);
        break;
      } catch (e) {
        const err = e as OpError;
        const rel = typeof err.index === 'number' ? this.makers.get(err.index) : undefined;
        if (err.code !== 'EEXIST' || rel === undefined) {
          delete (err as Partial<OpError>).index;
          delete (err as Partial<OpError>).fd;
          throw err;
        }
        from = this.taken(err.index, rel);
      }
    }
    this.makers.clear();
    this.dirHeaders.clear();
  }

  /** The op at index could not make rel: the name is taken. Returns the op to go on from. */
  private taken(index: number, rel: string): number {
    if (this.batch.op(index) === Op.mkdir) {
      const st = lstatSync(this.tree.abs(rel));
      if (st.isDirectory()) {
        // A directory already: it keeps its content, and takes this entry's owner and mode.
        const h = this.dirHeaders.get(index)!;
        lchownSync(this.tree.abs(rel), h.uid, h.gid);
        chmodSync(this.tree.abs(rel), h.mode & 0o7777);
        return index + 1;
      }
      // Not a directory, so nothing below it: the tree (which has rel, and maybe queued directories below) stays.
      unlinkSync(this.tree.abs(rel));
      return index;
    }
    this.replace(rel);
    return index;
  }

  /** A queued op that makes the name rel. */
  private make(rel: string, op: OpCode, a: number, b = 0, c = 0, d = 0): void {
    this.makers.set(this.batch.length, rel);
    this.batch.push(op, a, b, c, d);
  }

  private whiteout(parts: string[], name: string): void {
    this.run(); // what it hides may be in the batch
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
    this.replace(rel);
    native().mknod(this.tree.abs(rel), S_IFCHR, 0, 0);
  }

  /** Clears the way for a new entry at rel (a later entry replaces an earlier one, as tar does). */
  private replace(rel: string): void {
    if (this.tree.isDir(rel)) return this.tree.remove(rel);
    try {
      unlinkSync(this.tree.abs(rel));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return;
      if (code === 'EISDIR' || code === 'EPERM') return this.tree.remove(rel);
      throw e;
    }
  }

  private dir(rel: string, h: Headers): void {
    let fresh = false;
    if (!this.tree.isDir(rel)) {
      // Made with its mode (root may write into it whatever the mode says).
      this.dirHeaders.set(this.batch.length, h);
      this.make(rel, Op.mkdir, this.batch.str(rel), h.mode & 0o777);
      this.tree.addDir(rel);
      fresh = true;
    }
    const ours = fresh && !this.sgid.has(parentOf(rel));
    if (h.mode & 0o2000) this.sgid.add(rel);
    else this.sgid.delete(rel);
    this.meta(rel, h, !ours || !!(h.mode & 0o7000) || !!(h.mode & this.umask), ours);
  }

  private hardlink(rel: string, h: Headers): void {
    const tparts = entryParts(h.linkname, 'hardlink target');
    const trel = tparts.join('/');
    if (!trel) throw imageError('EPERM', 'hardlink to the layer root', { path: h.name });
    this.run(); // the target must be there
    this.tree.checkParents(tparts, h.linkname);
    const st = lstatSync(this.tree.abs(trel), { throwIfNoEntry: false });
    if (!st) throw imageError('ENOENT', `hardlink target '${h.linkname}' is not in the layer`, { path: h.name });
    if (st.isDirectory()) throw imageError('EPERM', `hardlink to the directory '${h.linkname}'`, { path: h.name });
    if (trel === rel) return;
    // link(2) does not follow a symlink target: the new name is the same inode.
    this.make(rel, Op.link, this.batch.str(trel), this.batch.str(rel));
  }

  /** Owner, mode, xattrs, mtime, in that order (chown clears setuid bits and security.capability). */
  private meta(rel: string, h: Headers, chmod: boolean, fresh = false): void {
    const b = this.batch;
    const path = b.str(rel || '.');
    // Just made by us, outside a setgid directory: already ours (root:root), no chown needed.
    if (!fresh || h.uid !== this.euid || h.gid !== this.egid) b.push(Op.lchown, path, h.uid, h.gid);
    if (chmod) b.push(Op.chmod, path, h.mode & 0o7777);
    if (h.xattrs) for (const [name, value] of h.xattrs) b.push(Op.lsetxattr, path, b.str(name), b.bytes(value), value.length);
    if (h.type === 'directory') this.dirTimes.set(rel, h.mtime);
    else b.push(Op.lutimens, path, ...timespec(h.mtime));
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
