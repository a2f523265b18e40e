// Entry paths inside a layer. A name is split into components with "." and
// empty ones dropped; ".." is refused outright (never confined by clamping,
// so a crafted archive fails loudly). Every directory on the way to an entry
// is checked with lstat before anything is written below it: a symlink there
// is refused, so no write ever goes through a link, whatever it points at.
import { lstatSync, mkdirSync, rmSync } from 'node:fs';
import { imageError } from './errors.js';

/** "./a//b/./c/" → ["a","b","c"]; throws on "..", NUL or an empty name. */
export function entryParts(name: string, what = 'entry'): string[] {
  if (name.includes('\0')) throw imageError('EINVAL', `layer ${what} has a NUL byte in its name`, { path: name });
  const parts = name.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw imageError('EPERM', `layer ${what} leads outside the layer`, { path: name });
  return parts;
}

/** The directories of one layer being unpacked, as far as this import has seen them. */
export class LayerTree {
  /** Relative paths known to be real directories (made or lstat-checked by us). */
  private dirs = new Set<string>(['']);
  constructor(readonly root: string) {}

  abs(rel: string): string {
    return rel ? `${this.root}/${rel}` : this.root;
  }

  /** True when parent() would find every parent of parts known, and touch nothing. */
  knowsParent(parts: string[]): boolean {
    if (parts.length < 2) return true;
    return this.dirs.has(parts.length === 2 ? parts[0]! : parts.slice(0, -1).join('/'));
  }

  /** Makes sure every parent of parts is a real directory, creating missing ones (0755, root). */
  parent(parts: string[], name: string): void {
    // Usually the parent is known already (and with it, every directory above it).
    if (this.knowsParent(parts)) return;
    let rel = '';
    for (let i = 0; i < parts.length - 1; i++) {
      rel = rel ? `${rel}/${parts[i]}` : parts[i]!;
      if (this.dirs.has(rel)) continue;
      const abs = this.abs(rel);
      let st;
      try {
        st = lstatSync(abs);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
        mkdirSync(abs, 0o755);
        this.dirs.add(rel);
        continue;
      }
      if (st.isSymbolicLink())
        throw imageError('EPERM', `layer entry goes through the symlink '${rel}'`, { path: name });
      if (!st.isDirectory()) throw imageError('ENOTDIR', `layer entry goes through the non-directory '${rel}'`, { path: name });
      this.dirs.add(rel);
    }
  }

  /** Like parent(), but creates nothing: for a hardlink's target. */
  checkParents(parts: string[], name: string): void {
    let rel = '';
    for (let i = 0; i < parts.length - 1; i++) {
      rel = rel ? `${rel}/${parts[i]}` : parts[i]!;
      if (this.dirs.has(rel)) continue;
      const st = lstatSync(this.abs(rel), { throwIfNoEntry: false });
      if (!st) throw imageError('ENOENT', 'hardlink target is not in the layer', { path: name });
      if (!st.isDirectory()) throw imageError('EPERM', `hardlink target goes through the non-directory '${rel}'`, { path: name });
      this.dirs.add(rel);
    }
  }

  addDir(rel: string): void {
    this.dirs.add(rel);
  }

  isDir(rel: string): boolean {
    return this.dirs.has(rel);
  }

  /** Removes whatever is at rel (a tree too), forgetting the directories below it. */
  remove(rel: string): void {
    rmSync(this.abs(rel), { recursive: true, force: true });
    const prefix = `${rel}/`;
    for (const d of this.dirs) if (d === rel || d.startsWith(prefix)) this.dirs.delete(d);
  }
}
