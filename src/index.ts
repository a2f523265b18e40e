// berth: a low-level Linux container runtime for Node.js.
export { Container, create, run, type CreateOptions, type ExitResult, type RunResult, type Status } from './runtime/container.js';
export { BerthError } from './runtime/errors.js';
export type { Stdio, StdioOption } from './runtime/stdio.js';
export { SpecError } from './spec/errors.js';
export { defaultSpec } from './spec/defaults.js';
export { validateSpec } from './spec/validate.js';
export type * from './spec/types.js';
