// For the attached verbs (run, exec): signals to us go to the container, and
// its exit becomes ours.
import type { Ended, Launch } from '../../runtime/launch.js';
import { signalNumber } from '../../runtime/signals.js';
import { callerForwardsSignals } from '../../runtime/spawner.js';

const FORWARDED = ['SIGHUP', 'SIGINT', 'SIGQUIT', 'SIGTERM', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH'] as const;

export function forwardSignals(launch: Launch): () => void {
  // Served (src/cli/oci/server.ts): the front gets the signals and passes
  // them to the setup process, which relays them; here they would be the server's.
  if (callerForwardsSignals()) return () => {};
  const handlers = FORWARDED.map((sig) => {
    const h = () => launch.signal(signalNumber(sig));
    process.on(sig, h);
    return [sig, h] as const;
  });
  return () => {
    for (const [sig, h] of handlers) process.off(sig, h);
  };
}

export function exitCode(e: Ended): number {
  const sig = e.exit?.signal ?? e.status.signal;
  if (sig) return 128 + sig;
  return e.exit?.code ?? e.status.code ?? 255;
}
