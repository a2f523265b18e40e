// An overlay root filesystem for a container: image layers (or a plain
// directory) as read-only lowers, and the container's own upper and work
// directories, or none for a read-only root.
//
// Where it is mounted: by the container process, inside the container's new
// mount namespace, at root.path, before the rootfs is bound and pivoted into
// (the `overlay` op, native/setup/overlay.cc). So the overlay never appears
// in the host's mount table and needs no unmount: it goes with the namespace,
// even when Node dies. What stays on the host is plain directories (upper,
// work) that `release` removes when the container is deleted.
//
// Long layer lists: mount(2) takes its options in one page, which about 60
// layers under /var/lib/berth/layers/sha256/<64 hex> fill. Kernels 6.8+ take
// each lower layer as its own fsconfig("lowerdir+") call, with no such
// limit; older ones get a `mount` op with lowerdir= and, past the limit, a
// clear error.
//
// In a container with its own user namespace, the layers (host root's files)
// would show as nobody's. There the setup process makes the overlay while it
// is still root on the host, each lower layer an idmapped mount (the
// container's mapping, so host 0 shows as the container's 0), the upper
// directory plain and owned by the container's root (what the container
// writes lands under its mapped host ids), and the container process only
// attaches it (`overlayprep`, `overlayattach`; kernel 6.13+, which takes
// overlay layers as fds).
import { release as kernelRelease } from 'node:os';
import { BerthError } from '../runtime/errors.js';
import type { Op } from '../runtime/protocol.js';
import type { IDMapping, Namespace, Spec } from '../spec/types.js';
import { MOUNT_ATTR } from './flags.js';

export interface OverlayRootfs {
  /** Lower directories, top first (as in lowerdir=). */
  lower: string[];
  /** Where the container's changes go; with work, on the same file system. Absent: a read-only overlay. */
  upper?: string;
  work?: string;
  /** Removes the container's upper and work directories; called when the container is deleted or fails to start. */
  release?: () => void | Promise<void>;
}

/** The mount data size limit of mount(2): one page. */
export const MOUNT_DATA_MAX = 4095;

export function hasLowerdirPlus(release = kernelRelease()): boolean {
  const [maj, min] = release.split('.').map((x) => parseInt(x, 10));
  return maj! > 6 || (maj === 6 && min! >= 8);
}

/** lowerdir= syntax: ':' separates layers, ',' options; both are escaped. */
const escape = (p: string) => p.replace(/[\\:,]/g, (c) => `\\${c}`);

/** The plan op(s) mounting `o` at target (a host path, in the container's mount namespace). */
export function overlayOps(o: OverlayRootfs, target: string, kernel = kernelRelease()): Op[] {
  const step = 'mount the overlay rootfs';
  if (!o.lower.length) throw new BerthError('an overlay needs at least one lower directory', { code: 'EINVAL', step });
  if (!!o.upper !== !!o.work) throw new BerthError('an overlay needs both upper and work, or neither', { code: 'EINVAL', step });
  const readonly = !o.upper;
  // overlayfs wants two lowers when it has no upper; one read-only layer is simply a read-only bind.
  if (readonly && o.lower.length === 1)
    return [{
      op: 'bind', step, source: o.lower[0]!, target, recursive: false, create: 'none',
      attrSet: MOUNT_ATTR.RDONLY, attrClr: 0, rattrSet: 0, rattrClr: 0, propagation: 0, propagationRecursive: false,
    }];
  if (hasLowerdirPlus(kernel))
    return [{ op: 'overlay', step, target, upper: o.upper ?? '', work: o.work ?? '', readonly, lower: o.lower }];
  let data = `lowerdir=${o.lower.map(escape).join(':')}`;
  if (o.upper) data += `,upperdir=${escape(o.upper)},workdir=${escape(o.work!)}`;
  if (data.length > MOUNT_DATA_MAX)
    throw new BerthError(
      `E2BIG: ${o.lower.length} layers make ${data.length} bytes of overlay options, over mount(2)'s ${MOUNT_DATA_MAX}-byte limit; kernel ${kernel} has no lowerdir+ (6.8+) (${step})`,
      { code: 'E2BIG', step, hint: 'use fewer layers or a kernel 6.8 or newer' },
    );
  return [{ op: 'mount', step, source: 'overlay', target, fstype: 'overlay', flags: readonly ? 1 : 0, data, where: 'host', create: 'none' }];
}

/** The user namespace whose mapping the layers get: a joined one's path, or the maps of a new one. */
export interface OverlayIdmap {
  usernsPath?: string;
  /** uid_map / gid_map text ("containerID hostID size" lines). */
  uidMap?: string;
  gidMap?: string;
  /** Host ids of the container's root, which own the upper directory. */
  owner?: { uid: number; gid: number };
}

export function hasLayerFds(release = kernelRelease()): boolean {
  const [maj, min] = release.split('.').map((x) => parseInt(x, 10));
  return maj! > 6 || (maj === 6 && min! >= 13);
}

/**
 * The ops of an overlay root in a user-namespace container: `prep` runs
 * first of all (before the user namespace), `attach` where overlayOps' ops would.
 */
export function overlayUsernsOps(o: OverlayRootfs, target: string, idmap: OverlayIdmap, kernel = kernelRelease()): { prep: Op; attach: Op } {
  const step = 'mount the overlay rootfs';
  if (!o.lower.length) throw new BerthError('an overlay needs at least one lower directory', { code: 'EINVAL', step });
  if (!!o.upper !== !!o.work) throw new BerthError('an overlay needs both upper and work, or neither', { code: 'EINVAL', step });
  if (!hasLayerFds(kernel))
    throw new BerthError(`ENOTSUP: an image rootfs in a user namespace needs idmapped overlay layers given as fds, kernel 6.13+ (this is ${kernel}) (${step})`, {
      code: 'ENOTSUP', step, hint: 'run the container without a user namespace, or on a newer kernel',
    });
  return {
    prep: {
      op: 'overlayprep', step, upper: o.upper ?? '', work: o.work ?? '', readonly: !o.upper, lower: o.lower,
      usernsPath: idmap.usernsPath ?? '', uidMap: idmap.uidMap ?? '', gidMap: idmap.gidMap ?? '',
      ownerUid: idmap.owner?.uid ?? -1, ownerGid: idmap.owner?.gid ?? -1,
    },
    attach: { op: 'overlayattach', step, target },
  };
}

const mapText = (m: IDMapping[] | undefined) => (m ?? []).map((x) => `${x.containerID} ${x.hostID} ${x.size}\n`).join('');
const hostRoot = (m: IDMapping[] | undefined) => {
  const x = m?.find((x) => x.containerID <= 0 && 0 < x.containerID + x.size);
  return x && x.hostID - x.containerID;
};

/**
 * The overlay root's part of a container's plan: `first` goes before
 * everything (before the user namespace, if the container has one), `mount`
 * where the root is set up.
 */
export function overlayPlan(o: OverlayRootfs, target: string, spec: Spec, namespaces: readonly Namespace[], kernel = kernelRelease()): { first: Op[]; mount: Op[] } {
  const user = namespaces.find((n) => n.type === 'user');
  if (!user) return { first: [], mount: overlayOps(o, target, kernel) };
  const [uid, gid] = [hostRoot(spec.linux?.uidMappings), hostRoot(spec.linux?.gidMappings)];
  const { prep, attach } = overlayUsernsOps(o, target, {
    usernsPath: user.path,
    uidMap: user.path ? undefined : mapText(spec.linux?.uidMappings),
    gidMap: user.path ? undefined : mapText(spec.linux?.gidMappings),
    owner: uid !== undefined && gid !== undefined ? { uid, gid } : undefined,
  }, kernel);
  return { first: [prep], mount: [attach] };
}
