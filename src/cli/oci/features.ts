// features: what this build supports, generated from the tables the code uses.
import { FLAG_OPTIONS, PROPAGATION, RECURSIVE_OPTIONS } from '../../mounts/flags.js';
import { SECCOMP_FLAG_BITS } from '../../runtime/seccomp.js';
import { CAPABILITIES, DEFAULT_OCI_VERSION, HOOK_NAMES, NAMESPACE_TYPES, SECCOMP_ACTIONS, SECCOMP_ARCHITECTURES, SECCOMP_OPERATORS } from '../../spec/defaults.js';
import type { Context } from './context.js';

export async function features(ctx: Context): Promise<number> {
  const f = {
    ociVersionMin: '1.0.0',
    ociVersionMax: DEFAULT_OCI_VERSION.replace(/-dev$/, ''),
    hooks: [...HOOK_NAMES],
    mountOptions: [...Object.keys(FLAG_OPTIONS), ...Object.keys(PROPAGATION), ...Object.keys(RECURSIVE_OPTIONS), 'bind', 'rbind'].sort(),
    linux: {
      namespaces: NAMESPACE_TYPES.filter((n) => n !== 'time'),
      capabilities: Object.keys(CAPABILITIES),
      cgroup: { v1: true, v2: true, systemd: false, systemdUser: false },
      seccomp: {
        enabled: true,
        actions: SECCOMP_ACTIONS.filter((a) => a !== 'SCMP_ACT_NOTIFY'),
        operators: [...SECCOMP_OPERATORS],
        archs: [...SECCOMP_ARCHITECTURES],
        knownFlags: Object.keys(SECCOMP_FLAG_BITS),
        supportedFlags: Object.keys(SECCOMP_FLAG_BITS),
      },
      apparmor: { enabled: false },
      selinux: { enabled: false },
      intelRdt: { enabled: false },
      mountExtensions: { idmap: { enabled: false } },
    },
    annotations: { 'org.berth.cgroups': 'cgroupfs driver, v1 and v2 (no systemd driver)' },
  };
  ctx.out(JSON.stringify(f, null, 2));
  return 0;
}
