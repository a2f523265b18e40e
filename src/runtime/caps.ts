// Capability names to the 64-bit masks the setup process applies.
import { CAPABILITIES } from '../spec/defaults.js';

export function capMask(names: readonly string[] | undefined): bigint {
  let mask = 0n;
  for (const n of names ?? []) {
    const bit = (CAPABILITIES as Record<string, number>)[n];
    if (bit !== undefined) mask |= 1n << BigInt(bit);
  }
  return mask;
}
