// Parses an OCI mount's `options` into what the kernel takes.
import { FLAG_OPTIONS, MS, PROPAGATION, RECURSIVE_OPTIONS } from './flags.js';

export interface ParsedOptions {
  /** mount(2) flags, without MS_BIND/MS_REC/propagation. */
  flags: number;
  bind: boolean;
  /** rbind: the bind takes the submounts along. */
  recursive: boolean;
  /** Propagation to set after mounting, 0 for none. */
  propagation: number;
  propagationRecursive: boolean;
  /** Recursive attributes (rro, rnosuid, ...) for mount_setattr. */
  recursiveSet: number;
  recursiveClr: number;
  /** Filesystem options passed as mount(2) data. */
  data: string[];
}

/** `field` names the options array for errors, e.g. `mounts[2].options`. */
export function parseMountOptions(options: readonly string[], field: string): ParsedOptions {
  const out: ParsedOptions = {
    flags: 0,
    bind: false,
    recursive: false,
    propagation: 0,
    propagationRecursive: false,
    recursiveSet: 0,
    recursiveClr: 0,
    data: [],
  };
  options.forEach((opt, i) => {
    const f = FLAG_OPTIONS[opt];
    const p = PROPAGATION[opt];
    const r = RECURSIVE_OPTIONS[opt];
    if (opt === 'bind' || opt === 'rbind') {
      out.bind = true;
      out.recursive ||= opt === 'rbind';
    } else if (f) {
      out.flags = f.clear ? out.flags & ~f.flag : out.flags | f.flag;
    } else if (p) {
      out.propagation = p.flag;
      out.propagationRecursive = p.recursive;
    } else if (r) {
      out.recursiveSet = (out.recursiveSet & ~r.clr) | r.set;
      out.recursiveClr = (out.recursiveClr | r.clr) & ~r.set;
    } else if (opt === 'idmap' || opt === 'ridmap') {
      throw Object.assign(new Error(`${field}[${i}]: "${opt}" mounts are not supported yet`), {
        code: 'ENOTSUP',
        field: `${field}[${i}]`,
      });
    } else if (opt !== '' && opt !== 'defaults') {
      out.data.push(opt);
    }
  });
  if (out.flags & MS.REMOUNT && out.bind) out.flags &= ~MS.REMOUNT;
  return out;
}
