// The table of contents of an uncompressed tar file, read by seeking from
// header to header (512 bytes each) without reading the data: an OCI or
// docker-save archive's JSON files are read first, then only the layers the
// store lacks, each straight from its offset.
import { closeSync, openSync, readSync } from 'node:fs';
import { posix } from 'node:path';
import { fileChunks, type FileRegion } from './read.js';
import { imageError } from './errors.js';
import { entryParts } from './paths.js';

export interface TarMember {
  /** Normalised name: "blobs/sha256/<hex>", "manifest.json". */
  name: string;
  type: string;
  /** Symlink or hardlink target (docker save links duplicate layer.tar files). */
  link?: string;
  offset: number;
  size: number;
}

function octal(b: Buffer, off: number, len: number): number {
  // GNU base-256 for values that do not fit the octal field.
  if (b[off]! & 0x80) {
    let v = 0;
    for (let i = off + 1; i < off + len; i++) v = v * 256 + b[i]!;
    return v;
  }
  const s = b.toString('latin1', off, off + len).replace(/\0.*$/s, '').trim();
  return s ? parseInt(s, 8) : 0;
}

const cstr = (b: Buffer, off: number, len: number) => {
  const end = b.indexOf(0, off);
  return b.toString('utf8', off, end < 0 || end > off + len ? off + len : end);
};

function paxRecords(data: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let b = data;
  while (b.length) {
    const sp = b.indexOf(32);
    const len = parseInt(b.toString('latin1', 0, sp), 10);
    if (sp < 0 || !(len > 0)) break;
    const rec = b.toString('utf8', sp + 1, len - 1);
    const eq = rec.indexOf('=');
    if (eq > 0) out[rec.slice(0, eq)] = rec.slice(eq + 1);
    b = b.subarray(len);
  }
  return out;
}

export class TarIndex {
  readonly members = new Map<string, TarMember>();
  private constructor(readonly file: string) {}

  /** Lists the archive; throws EBADMSG if a header is corrupt or the file ends inside a member. */
  /** True when the scan stopped at a member `accept` refused (then the index is partial). */
  stopped = false;

  static read(file: string, fileSize: number, accept?: (name: string) => boolean): TarIndex {
    const idx = new TarIndex(file);
    const fd = openSync(file, 'r');
    try {
      const h = Buffer.alloc(512);
      let pos = 0;
      let longName: string | undefined;
      let pax: Record<string, string> = {};
      let ended = false;
      while (pos + 512 <= fileSize) {
        readSync(fd, h, 0, 512, pos);
        if (h.every((x) => x === 0)) {
          ended = true;
          break;
        }
        let sum = 0;
        for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : h[i]!;
        if (sum !== octal(h, 148, 8)) throw imageError('EBADMSG', `corrupt tar header at byte ${pos}`, { path: file });
        const type = String.fromCharCode(h[156]! || 48);
        let size = octal(h, 124, 12);
        const data = pos + 512;
        if (type === 'x' || type === 'L' || type === 'g') {
          if (size > 1 << 20) throw imageError('EBADMSG', `oversized tar header at byte ${pos}`, { path: file });
          const b = Buffer.alloc(size);
          readSync(fd, b, 0, size, data);
          if (type === 'L') longName = b.toString('utf8').replace(/\0+$/, '');
          else if (type === 'x') pax = paxRecords(b);
          pos = data + Math.ceil(size / 512) * 512;
          continue;
        }
        let name = cstr(h, 0, 100);
        const magic = h.toString('latin1', 257, 262);
        if (magic === 'ustar' && h[345]) name = `${cstr(h, 345, 155)}/${name}`;
        name = pax.path ?? longName ?? name;
        if (pax.size) size = Number(pax.size);
        longName = undefined;
        if (data + size > fileSize) throw imageError('EBADMSG', 'truncated archive', { path: file });
        const parts = entryParts(name);
        if (accept && !accept(parts.join('/'))) {
          idx.stopped = true;
          return idx;
        }
        const link = pax.linkpath ?? cstr(h, 157, 100);
        if (type === '0' || type === '7' || type === '1' || type === '2')
          idx.members.set(parts.join('/'), { name: parts.join('/'), type, offset: data, size, link: type === '1' || type === '2' ? link : undefined });
        pax = {};
        pos = data + Math.ceil(size / 512) * 512;
      }
      if (!ended && !idx.stopped) throw imageError('EBADMSG', 'truncated archive (no end-of-archive marker)', { path: file });
    } finally {
      closeSync(fd);
    }
    return idx;
  }

  /** The member, with links followed (inside the archive only). */
  get(name: string): TarMember | undefined {
    let m = this.members.get(name);
    for (let hops = 0; m?.link !== undefined && hops < 8; hops++) {
      // A symlink resolves beside itself, a hardlink from the archive's top; never above it.
      const base = m.type === '2' && !m.link.startsWith('/') ? posix.dirname(m.name) : '.';
      const target = posix.normalize(posix.join(base, m.link)).replace(/^\/+/, '');
      if (target === '..' || target.startsWith('../')) return undefined;
      m = this.members.get(target);
    }
    return m?.link === undefined ? m : undefined;
  }

  readAll(m: TarMember): Buffer {
    const fd = openSync(this.file, 'r');
    try {
      const b = Buffer.alloc(m.size);
      let off = 0;
      while (off < m.size) {
        const n = readSync(fd, b, off, m.size - off, m.offset + off);
        if (n === 0) throw imageError('EBADMSG', 'truncated archive', { path: this.file });
        off += n;
      }
      return b;
    } finally {
      closeSync(fd);
    }
  }

  stream(m: TarMember): FileRegion {
    return fileChunks(this.file, m.offset, m.size);
  }
}

/** Names an OCI layout or a docker save archive may hold; anything else means a rootfs tarball. */
export function isLayoutMember(name: string): boolean {
  return (
    name === '' ||
    /^(oci-layout|index\.json|manifest\.json|repositories|blobs(\/[a-z0-9]+(\/[a-f0-9]+)?)?)$/.test(name) ||
    /^[a-f0-9]{64}(\.json|\/(VERSION|json|layer\.tar)?)?$/.test(name)
  );
}
