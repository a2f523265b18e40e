// The OCI runtime-spec config.json: types, runc's defaults, validation.

export type * from './types.js';
export { SpecError } from './errors.js';
export {
  defaultSpec,
  DEFAULT_OCI_VERSION,
  NAMESPACE_TYPES,
  NAMESPACE_CLONE_FLAGS,
  NAMESPACE_PROC_NAMES,
  CAPABILITIES,
  RLIMITS,
  ROOTFS_PROPAGATIONS,
  HOOK_NAMES,
  SECCOMP_ACTIONS,
  SECCOMP_OPERATORS,
  SECCOMP_FLAGS,
  SECCOMP_ARCHITECTURES,
  SCHEDULER_POLICIES,
  SCHEDULER_FLAGS,
  IOPRIO_CLASSES,
} from './defaults.js';
export type { CapabilityName, RlimitName, DefaultSpecOptions } from './defaults.js';
export { validateSpec, parseSpecJson } from './validate.js';
export { MAX_ID_MAPPINGS } from './validate-linux.js';
