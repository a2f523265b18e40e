// features: what this build supports, generated from the tables the code uses.
import { FLAG_OPTIONS, PROPAGATION, RECURSIVE_OPTIONS } from '../../mounts/flags.js';
import { CAPABILITIES, DEFAULT_OCI_VERSION, HOOK_NAMES, NAMESPACE_TYPES } from '../../spec/defaults.js';
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
      cgroup: { v1: false, v2: false, systemd: false, systemdUser: false },
      seccomp: { enabled: false },
      apparmor: { enabled: false },
      selinux: { enabled: false },
      intelRdt: { enabled: false },
      mountExtensions: { idmap: { enabled: false } },
    },
    annotations: {
      'org.berth.note': 'linux.resources, seccomp and hooks are not applied yet by this build',
    },
  };
  ctx.out(JSON.stringify(f, null, 2));
  return 0;
}
