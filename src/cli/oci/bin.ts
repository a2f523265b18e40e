// Entry point of bin/berth (through native/front when built), and of the CLI
// server that the front starts (`--berth-serve SOCKET`).
import { main } from './main.js';

const argv = process.argv.slice(2);
if (argv[0] === '--berth-serve' && argv[1]) {
  await (await import('./server.js')).serve(argv[1]);
  process.exit(0);
} else {
  process.exitCode = await main(argv);
}
