// The standard device nodes and /dev symlinks every container gets when its
// /dev is a fresh tmpfs (the OCI runtime spec's default devices).

export interface DeviceNode {
  path: string;
  type: 'c' | 'b' | 'p' | 'u';
  major: number;
  minor: number;
  fileMode: number;
  uid: number;
  gid: number;
}

const chr = (name: string, major: number, minor: number): DeviceNode => ({
  path: `/dev/${name}`,
  type: 'c',
  major,
  minor,
  fileMode: 0o666,
  uid: 0,
  gid: 0,
});

export const DEFAULT_DEVICES: readonly DeviceNode[] = Object.freeze([
  chr('null', 1, 3),
  chr('zero', 1, 5),
  chr('full', 1, 7),
  chr('random', 1, 8),
  chr('urandom', 1, 9),
  chr('tty', 5, 0),
]);

export const DEV_SYMLINKS: readonly { path: string; target: string }[] = Object.freeze([
  { path: '/dev/fd', target: '/proc/self/fd' },
  { path: '/dev/stdin', target: '/proc/self/fd/0' },
  { path: '/dev/stdout', target: '/proc/self/fd/1' },
  { path: '/dev/stderr', target: '/proc/self/fd/2' },
  { path: '/dev/ptmx', target: 'pts/ptmx' },
]);

export const S_IF = Object.freeze({ c: 0o020000, b: 0o060000, p: 0o010000, u: 0o020000 });
