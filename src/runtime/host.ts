// Facts about the host that plans depend on, read once per process.
import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import type { MountHost } from '../mounts/plan.js';

export interface HostFacts extends MountHost {
  /** AppArmor and SELinux are enabled on this kernel. */
  apparmor: boolean;
  selinux: boolean;
}

let cached: HostFacts | undefined;

/** Unescapes a mountinfo path (\040 for a space, and so on). */
const unescape = (s: string) => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));

export function hostFacts(): HostFacts {
  if (cached) return cached;
  const cgroupMounts: HostFacts['cgroupMounts'] = [];
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const f = line.split(' ');
    const sep = f.indexOf('-');
    if (sep < 0) continue;
    const fstype = f[sep + 1];
    const path = unescape(f[4] ?? '');
    if ((fstype === 'cgroup' || fstype === 'cgroup2') && path.startsWith('/sys/fs/cgroup'))
      cgroupMounts.push({ path, fstype });
  }
  const apparmor = (() => {
    try {
      return readFileSync('/sys/module/apparmor/parameters/enabled', 'utf8').trim() === 'Y';
    } catch {
      return false;
    }
  })();
  // v1: /sys/fs/cgroup is a tmpfs whose links name co-mounted hierarchies (cpu -> cpu,cpuacct).
  const cgroupLinks: HostFacts['cgroupLinks'] = [];
  if (!cgroupMounts.some((m) => m.path === '/sys/fs/cgroup'))
    for (const name of existsSync('/sys/fs/cgroup') ? readdirSync('/sys/fs/cgroup') : [])
      try {
        if (lstatSync(`/sys/fs/cgroup/${name}`).isSymbolicLink()) cgroupLinks.push({ name, target: readlinkSync(`/sys/fs/cgroup/${name}`) });
      } catch {
        // gone meanwhile
      }
  cached = { cgroupMounts, cgroupLinks, apparmor, selinux: existsSync('/sys/fs/selinux/enforce') };
  return cached;
}
