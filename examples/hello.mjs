// Runs a shell in a busybox container and prints what it saw.
// Usage: node examples/hello.mjs [ROOTFS]   (as root; `npm start` builds the rootfs)
import { run, defaultSpec } from '../dist/src/index.js';

const spec = defaultSpec();
spec.root = { path: process.argv[2] ?? new URL('../test/.rootfs/busybox', import.meta.url).pathname, readonly: true };
spec.hostname = 'hello';
spec.process.terminal = false;
spec.process.args = ['sh', '-c', 'echo "hello from $(hostname), pid $$, uid $(id -u)"; ps'];

const t0 = performance.now();
const { exitCode, stdout, stderr } = await run({ spec });
process.stdout.write(stdout);
process.stderr.write(stderr);
console.log(`exit ${exitCode} after ${(performance.now() - t0).toFixed(1)} ms`);
process.exitCode = exitCode;
