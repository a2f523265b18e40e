// berth: a low-level Linux container runtime for Node.js.
export { Container, create, run, type CreateOptions, type ExitResult, type RunResult, type Status } from './runtime/container.js';
export { BerthError } from './runtime/errors.js';
export type { Stdio, StdioOption } from './runtime/stdio.js';
export { SpecError } from './spec/errors.js';
export { defaultSpec } from './spec/defaults.js';
export { validateSpec } from './spec/validate.js';
export type * from './spec/types.js';
export * as images from './images/index.js';
export { CgroupError, runcStats, type Stats } from './cgroups/index.js';
export type { ContainerEvent, EventsOptions } from './cgroups/events.js';
export * as network from './netns/index.js';
export type { NetworkOption, NetworkInfo, PublishOption } from './netns/attach.js';
