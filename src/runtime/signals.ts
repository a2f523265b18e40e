// Signal names and numbers, as Node knows them.
import { constants } from 'node:os';

const byName = constants.signals as Record<string, number>;
const byNumber = new Map(Object.entries(byName).map(([k, v]) => [v, k as NodeJS.Signals]));

/** Accepts 'SIGTERM', 'TERM', 'term' or 15. */
export function signalNumber(sig: string | number): number {
  if (typeof sig === 'number') {
    if (Number.isInteger(sig) && sig > 0 && sig < 65) return sig;
  } else {
    if (/^\d+$/.test(sig)) return signalNumber(Number(sig));
    const name = sig.toUpperCase();
    const n = byName[name.startsWith('SIG') ? name : `SIG${name}`];
    if (n !== undefined) return n;
  }
  throw Object.assign(new TypeError(`unknown signal ${JSON.stringify(sig)}`), { code: 'EINVAL' });
}

export const signalName = (n: number): NodeJS.Signals | undefined => byNumber.get(n);
