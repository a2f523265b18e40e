// tar-stream, plus the raw bytes of PAX xattr records. tar-stream decodes
// every PAX value as UTF-8, which mangles binary values such as
// security.capability; we wrap its decoder to keep SCHILY.xattr.* (GNU tar,
// Docker) and LIBARCHIVE.xattr.* (bsdtar, base64) values as Buffers under a
// symbol on the same object (Object.assign in tar-stream carries symbols
// along, so global PAX headers keep them too).
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import tar, { type Header as Headers } from 'tar-stream';

export { tar };
export type { Header as Headers } from 'tar-stream';

const RAW = Symbol('berth.xattrs');

type Pax = Record<string, string> & { [RAW]?: Map<string, Buffer> };

const require = createRequire(import.meta.url);
const headers = require(join(dirname(require.resolve('tar-stream')), 'headers.js')) as { decodePax: (b: Buffer) => Pax; berthRaw?: boolean };

if (!headers.berthRaw) {
  const decode = headers.decodePax;
  headers.decodePax = (buf: Buffer): Pax => {
    const out = decode(buf);
    const raw = new Map<string, Buffer>();
    let b = buf;
    while (b.length) {
      const sp = b.indexOf(32);
      const len = parseInt(b.subarray(0, sp).toString('latin1'), 10);
      if (sp < 0 || !(len > 0) || len > b.length) break;
      const rec = b.subarray(sp + 1, len - 1);
      const eq = rec.indexOf(61);
      if (eq > 0) {
        const key = rec.subarray(0, eq).toString('utf8');
        const value = rec.subarray(eq + 1);
        if (key.startsWith('SCHILY.xattr.')) raw.set(key.slice(13), Buffer.from(value));
        else if (key.startsWith('LIBARCHIVE.xattr.'))
          raw.set(decodeURIComponent(key.slice(17)), Buffer.from(value.toString('latin1'), 'base64'));
      }
      b = b.subarray(len);
    }
    if (raw.size) Object.defineProperty(out, RAW, { value: raw, enumerable: true });
    return out;
  };
  headers.berthRaw = true;
}

/** The extended attributes of an entry, from its PAX records. */
export function entryXattrs(header: Headers): Map<string, Buffer> | undefined {
  return (header as { pax?: Pax }).pax?.[RAW];
}

/** PAX mtime (fractional seconds) when present, else the header's whole seconds. */
export function entryMtime(header: Headers): number {
  const p = (header as { pax?: Pax }).pax?.mtime;
  const v = p ? Number(p) : NaN;
  return Number.isFinite(v) ? v : (header.mtime?.getTime() ?? 0) / 1000;
}

/** PAX uid/gid (ids beyond the octal field) when present. */
export function entryOwner(header: Headers): { uid: number; gid: number } {
  const pax = (header as { pax?: Pax }).pax;
  const uid = pax?.uid ? Number(pax.uid) : (header.uid ?? 0);
  const gid = pax?.gid ? Number(pax.gid) : (header.gid ?? 0);
  return { uid, gid };
}
