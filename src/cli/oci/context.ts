// What every verb gets: the global flags, the state store, and output.
import { StateStore } from '../../runtime/state.js';
import type { Flags } from './args.js';

export interface Context {
  store: StateStore;
  global: Flags;
  out: (s: string) => void;
}
