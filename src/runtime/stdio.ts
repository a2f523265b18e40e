// stdio for the container: inherited, piped to Node streams, ignored, or
// given as fds. Decides which fd the child gets and what Node keeps.
import { openSync } from 'node:fs';
import { Socket } from 'node:net';
import { native } from '../native.js';

export type StdioOption = 'inherit' | 'pipe' | 'ignore' | number;
export type Stdio = StdioOption | [StdioOption, StdioOption, StdioOption];

export interface PreparedStdio {
  /** The fds the child gets as 0, 1, 2. */
  childFds: [number, number, number];
  /** fds to close in Node once the child has them. */
  closeAfterSpawn: number[];
  stdin?: Socket;
  stdout?: Socket;
  stderr?: Socket;
}

export function prepareStdio(stdio: Stdio | undefined): PreparedStdio {
  const opts: StdioOption[] = Array.isArray(stdio) ? stdio : [stdio ?? 'pipe', stdio ?? 'pipe', stdio ?? 'pipe'];
  const out: PreparedStdio = { childFds: [0, 1, 2], closeAfterSpawn: [] };
  const streams: (Socket | undefined)[] = [];
  const n = native();
  opts.forEach((o, i) => {
    if (o === 'inherit') {
      out.childFds[i] = i;
    } else if (o === 'ignore') {
      const fd = openSync('/dev/null', i === 0 ? 'r' : 'w');
      out.childFds[i] = fd;
      out.closeAfterSpawn.push(fd);
    } else if (o === 'pipe') {
      const [r, w] = n.pipe();
      const [mine, theirs] = i === 0 ? [w, r] : [r, w];
      out.childFds[i] = theirs;
      out.closeAfterSpawn.push(theirs);
      streams[i] = new Socket({ fd: mine, readable: i !== 0, writable: i === 0 });
    } else if (Number.isInteger(o) && o >= 0) {
      out.childFds[i] = o;
    } else {
      throw new TypeError(`stdio[${i}]: must be "inherit", "pipe", "ignore" or an fd`);
    }
  });
  [out.stdin, out.stdout, out.stderr] = streams;
  return out;
}
