// Kernel constants for mounts (sys/mount.h, linux/mount.h): the one table
// the mount code and `berth features` read.

export const MS = Object.freeze({
  RDONLY: 0x1,
  NOSUID: 0x2,
  NODEV: 0x4,
  NOEXEC: 0x8,
  SYNCHRONOUS: 0x10,
  REMOUNT: 0x20,
  MANDLOCK: 0x40,
  DIRSYNC: 0x80,
  NOSYMFOLLOW: 0x100,
  NOATIME: 0x400,
  NODIRATIME: 0x800,
  BIND: 0x1000,
  MOVE: 0x2000,
  REC: 0x4000,
  SILENT: 0x8000,
  UNBINDABLE: 0x20000,
  PRIVATE: 0x40000,
  SLAVE: 0x80000,
  SHARED: 0x100000,
  RELATIME: 0x200000,
  STRICTATIME: 0x1000000,
  LAZYTIME: 0x2000000,
});

/** mount_setattr(2) attributes. */
export const MOUNT_ATTR = Object.freeze({
  RDONLY: 0x1,
  NOSUID: 0x2,
  NODEV: 0x4,
  NOEXEC: 0x8,
  ATIME_MASK: 0x70,
  RELATIME: 0x0,
  NOATIME: 0x10,
  STRICTATIME: 0x20,
  NODIRATIME: 0x80,
  NOSYMFOLLOW: 0x200000,
});

/** Propagation names (mount options and linux.rootfsPropagation). */
export const PROPAGATION: Readonly<Record<string, { flag: number; recursive: boolean }>> = Object.freeze({
  private: { flag: MS.PRIVATE, recursive: false },
  rprivate: { flag: MS.PRIVATE, recursive: true },
  shared: { flag: MS.SHARED, recursive: false },
  rshared: { flag: MS.SHARED, recursive: true },
  slave: { flag: MS.SLAVE, recursive: false },
  rslave: { flag: MS.SLAVE, recursive: true },
  unbindable: { flag: MS.UNBINDABLE, recursive: false },
  runbindable: { flag: MS.UNBINDABLE, recursive: true },
});

/** Options that set (or, with clear, unset) mount(2) flags. */
export const FLAG_OPTIONS: Readonly<Record<string, { flag: number; clear?: boolean }>> = Object.freeze({
  ro: { flag: MS.RDONLY },
  rw: { flag: MS.RDONLY, clear: true },
  nosuid: { flag: MS.NOSUID },
  suid: { flag: MS.NOSUID, clear: true },
  nodev: { flag: MS.NODEV },
  dev: { flag: MS.NODEV, clear: true },
  noexec: { flag: MS.NOEXEC },
  exec: { flag: MS.NOEXEC, clear: true },
  sync: { flag: MS.SYNCHRONOUS },
  async: { flag: MS.SYNCHRONOUS, clear: true },
  dirsync: { flag: MS.DIRSYNC },
  remount: { flag: MS.REMOUNT },
  mand: { flag: MS.MANDLOCK },
  nomand: { flag: MS.MANDLOCK, clear: true },
  noatime: { flag: MS.NOATIME },
  atime: { flag: MS.NOATIME, clear: true },
  nodiratime: { flag: MS.NODIRATIME },
  diratime: { flag: MS.NODIRATIME, clear: true },
  relatime: { flag: MS.RELATIME },
  norelatime: { flag: MS.RELATIME, clear: true },
  strictatime: { flag: MS.STRICTATIME },
  nostrictatime: { flag: MS.STRICTATIME, clear: true },
  nosymfollow: { flag: MS.NOSYMFOLLOW },
  symfollow: { flag: MS.NOSYMFOLLOW, clear: true },
  lazytime: { flag: MS.LAZYTIME },
  nolazytime: { flag: MS.LAZYTIME, clear: true },
  silent: { flag: MS.SILENT },
  loud: { flag: MS.SILENT, clear: true },
});

/** Recursive attribute options (mount_setattr with AT_RECURSIVE). */
export const RECURSIVE_OPTIONS: Readonly<Record<string, { set: number; clr: number }>> = Object.freeze({
  rro: { set: MOUNT_ATTR.RDONLY, clr: 0 },
  rrw: { set: 0, clr: MOUNT_ATTR.RDONLY },
  rnosuid: { set: MOUNT_ATTR.NOSUID, clr: 0 },
  rsuid: { set: 0, clr: MOUNT_ATTR.NOSUID },
  rnodev: { set: MOUNT_ATTR.NODEV, clr: 0 },
  rdev: { set: 0, clr: MOUNT_ATTR.NODEV },
  rnoexec: { set: MOUNT_ATTR.NOEXEC, clr: 0 },
  rexec: { set: 0, clr: MOUNT_ATTR.NOEXEC },
  rnodiratime: { set: MOUNT_ATTR.NODIRATIME, clr: 0 },
  rdiratime: { set: 0, clr: MOUNT_ATTR.NODIRATIME },
  rrelatime: { set: MOUNT_ATTR.RELATIME, clr: MOUNT_ATTR.ATIME_MASK },
  rnoatime: { set: MOUNT_ATTR.NOATIME, clr: MOUNT_ATTR.ATIME_MASK },
  rstrictatime: { set: MOUNT_ATTR.STRICTATIME, clr: MOUNT_ATTR.ATIME_MASK },
  rnosymfollow: { set: MOUNT_ATTR.NOSYMFOLLOW, clr: 0 },
  rsymfollow: { set: 0, clr: MOUNT_ATTR.NOSYMFOLLOW },
});

/** mount(2) flags that a bind mount applies with mount_setattr instead. */
export function flagsToAttrs(flags: number): { set: number; clr: number } {
  let set = 0;
  let clr = 0;
  if (flags & MS.RDONLY) set |= MOUNT_ATTR.RDONLY;
  if (flags & MS.NOSUID) set |= MOUNT_ATTR.NOSUID;
  if (flags & MS.NODEV) set |= MOUNT_ATTR.NODEV;
  if (flags & MS.NOEXEC) set |= MOUNT_ATTR.NOEXEC;
  if (flags & MS.NODIRATIME) set |= MOUNT_ATTR.NODIRATIME;
  if (flags & MS.NOSYMFOLLOW) set |= MOUNT_ATTR.NOSYMFOLLOW;
  if (flags & MS.NOATIME) {
    set |= MOUNT_ATTR.NOATIME;
    clr |= MOUNT_ATTR.ATIME_MASK;
  } else if (flags & MS.STRICTATIME) {
    set |= MOUNT_ATTR.STRICTATIME;
    clr |= MOUNT_ATTR.ATIME_MASK;
  }
  return { set, clr };
}
