// The mount part of the plan: the spec's mounts, the cgroup filesystem and
// the standard /dev, as ops that run in the container before pivot_root.
import { isAbsolute, resolve } from 'node:path';
import type { Device, Mount } from '../spec/types.js';
import type { Op } from '../runtime/protocol.js';
import { DEFAULT_DEVICES, DEV_SYMLINKS, S_IF, type DeviceNode } from './devices.js';
import { flagsToAttrs, MS } from './flags.js';
import { parseMountOptions } from './options.js';

/** Facts about the host the mount plan depends on (probed once, see host.ts). */
export interface MountHost {
  /** Host cgroup hierarchies: mount point and filesystem type. */
  cgroupMounts: { path: string; fstype: 'cgroup' | 'cgroup2' }[];
  /** cgroup v1: the symlinks in /sys/fs/cgroup (cpu -> cpu,cpuacct where co-mounted). */
  cgroupLinks?: { name: string; target: string }[];
}

export interface MountPlanInput {
  mounts: readonly Mount[];
  devices: readonly Device[];
  bundle: string;
  userns: boolean;
  host: MountHost;
  /** The container's cgroup, relative to each hierarchy's root: on v1 each hierarchy shows it as its root. */
  cgroupPath?: string;
}

const step = (m: Mount) => `mount ${m.destination}`;

function bindOps(m: Mount, source: string, field: string): Op[] {
  const o = parseMountOptions(m.options ?? [], `${field}.options`);
  const top = flagsToAttrs(o.flags);
  return [
    {
      op: 'bind',
      step: step(m),
      source,
      target: m.destination,
      recursive: o.recursive,
      create: 'auto',
      attrSet: top.set,
      attrClr: top.clr,
      rattrSet: o.recursiveSet,
      rattrClr: o.recursiveClr,
      propagation: o.propagation,
      propagationRecursive: o.propagationRecursive,
    },
  ];
}

function fsOps(m: Mount, field: string): Op[] {
  const o = parseMountOptions(m.options ?? [], `${field}.options`);
  const s = step(m);
  const ops: Op[] = [
    {
      op: 'mount',
      step: s,
      source: m.source ?? m.type ?? 'none',
      target: m.destination,
      fstype: m.type ?? '',
      flags: o.flags,
      data: o.data.join(','),
      where: 'root',
      create: 'dir',
    },
  ];
  if (o.recursiveSet || o.recursiveClr)
    ops.push({ op: 'setattr', step: s, target: m.destination, where: 'root', attrSet: o.recursiveSet, attrClr: o.recursiveClr, propagation: 0, recursive: true });
  if (o.propagation)
    ops.push({ op: 'setattr', step: s, target: m.destination, where: 'root', attrSet: 0, attrClr: 0, propagation: o.propagation, recursive: o.propagationRecursive });
  return ops;
}

/**
 * type "cgroup": cgroup2 as it is on a unified host. On v1, as runc does: a
 * tmpfs with, for each hierarchy, the container's own cgroup directory bound
 * in as its root (so /sys/fs/cgroup/memory/memory.limit_in_bytes is the
 * container's limit, and the host's other cgroups are not in view), the
 * host's links (cpu -> cpu,cpuacct), and the spec's flags on all of it.
 */
function cgroupOps(m: Mount, host: MountHost, field: string, cgroupPath: string | undefined): Op[] {
  const o = parseMountOptions(m.options ?? [], `${field}.options`);
  const s = step(m);
  const root = host.cgroupMounts.find((c) => c.path === '/sys/fs/cgroup');
  if (root?.fstype === 'cgroup2')
    return [{ op: 'mount', step: s, source: 'cgroup', target: m.destination, fstype: 'cgroup2', flags: o.flags, data: '', where: 'root', create: 'dir' }];
  const attrs = flagsToAttrs(o.flags);
  const bind = (source: string, target: string, recursive: boolean): Op => ({
    op: 'bind', step: s, source, target, recursive, create: 'dir',
    attrSet: 0, attrClr: 0, rattrSet: attrs.set, rattrClr: attrs.clr, propagation: 0, propagationRecursive: false,
  });
  // No cgroup of its own (nothing to show as the root): the host's tree.
  if (!cgroupPath) return [bind('/sys/fs/cgroup', m.destination, true)];
  const rel = `/${cgroupPath.replace(/^\/+|\/+$/g, '')}`;
  const dest = m.destination.replace(/\/+$/, '');
  const ops: Op[] = [{ op: 'mount', step: s, source: 'tmpfs', target: dest, fstype: 'tmpfs', flags: o.flags & ~MS.RDONLY, data: 'mode=755', where: 'root', create: 'dir' }];
  for (const h of host.cgroupMounts) {
    const name = h.path.slice('/sys/fs/cgroup/'.length);
    if (!h.path.startsWith('/sys/fs/cgroup/') || !name || name.includes('/')) continue;
    ops.push(bind(`${h.path}${rel}`, `${dest}/${name}`, false));
  }
  for (const l of host.cgroupLinks ?? []) ops.push({ op: 'symlink', step: s, target: l.target, path: `${dest}/${l.name}` });
  if (o.flags & MS.RDONLY) ops.push({ op: 'setattr', step: s, target: dest, where: 'root', attrSet: attrs.set, attrClr: attrs.clr, propagation: 0, recursive: false });
  return ops;
}


function deviceOps(devices: readonly DeviceNode[], userns: boolean): Op[] {
  return devices.map((d): Op => {
    const s = `create device ${d.path}`;
    // A user namespace may not mknod: bind the host's node instead.
    if (userns)
      return { op: 'bind', step: s, source: d.path, target: d.path, recursive: false, create: 'file', attrSet: 0, attrClr: 0, rattrSet: 0, rattrClr: 0, propagation: 0, propagationRecursive: false };
    return { op: 'mknod', step: s, path: d.path, mode: S_IF[d.type] | (d.fileMode & 0o7777), major: d.major, minor: d.minor, uid: d.uid, gid: d.gid };
  });
}

export function mountOps(input: MountPlanInput): Op[] {
  const ops: Op[] = [];
  let freshDev = false;
  input.mounts.forEach((m, i) => {
    const field = `mounts[${i}]`;
    const opts = m.options ?? [];
    const isBind = m.type === 'bind' || opts.includes('bind') || opts.includes('rbind');
    if (m.destination === '/dev') freshDev = !isBind;
    if (isBind) {
      const src = m.source ?? '';
      ops.push(...bindOps(m, isAbsolute(src) ? src : resolve(input.bundle, src), field));
    } else if (m.type === 'cgroup') {
      ops.push(...cgroupOps(m, input.host, field, input.cgroupPath));
    } else {
      ops.push(...fsOps(m, field));
    }
  });
  if (freshDev) {
    const extra: DeviceNode[] = input.devices.map((d) => ({
      path: d.path,
      type: d.type as DeviceNode['type'],
      major: d.major ?? 0,
      minor: d.minor ?? 0,
      fileMode: d.fileMode ?? 0o666,
      uid: d.uid ?? 0,
      gid: d.gid ?? 0,
    }));
    const paths = new Set(extra.map((d) => d.path));
    ops.push(...deviceOps([...DEFAULT_DEVICES.filter((d) => !paths.has(d.path)), ...extra], input.userns));
    for (const l of DEV_SYMLINKS) ops.push({ op: 'symlink', step: 'create /dev symlinks', target: l.target, path: l.path });
  }
  return ops;
}
