/**
 * A problem with a config.json. `field` is a JSON-path-style location such
 * as `mounts[3].options[0]` or `annotations["org.example/key"]` (`(root)` for
 * the document itself); `message` is always `"<field>: <problem>"`.
 */
export class SpecError extends Error {
  readonly code = 'EINVAL';
  readonly field: string;
  /** The message without the field prefix. */
  readonly problem: string;
  /** The file the spec came from, when known (see parseSpecJson). */
  source?: string;

  constructor(field: string, problem: string) {
    super(`${field}: ${problem}`);
    this.name = 'SpecError';
    this.field = field;
    this.problem = problem;
  }
}
