// process.terminal in the library: the container's stdio is a pty made in
// its own devpts, and the caller gets the master as a stream, with resize.
import t from 'tap';
import { existsSync, readdirSync } from 'node:fs';
import { Container, run } from '../../src/index.js';
import { spec } from '../helpers.js';

const until = async (what: () => boolean, ms = 10_000) => {
  for (const end = Date.now() + ms; !what() && Date.now() < end; ) await new Promise((r) => setTimeout(r, 20));
  return what();
};

t.test('a terminal: tty, initial size, input, resize, exit code, end of stream', async (t) => {
  const script = 'tty; stty size; read x; echo "got:$x"; stty size; exit 3';
  const c = await Container.create({
    spec: spec(['sh', '-c', script], (s) => {
      s.process!.terminal = true;
      s.process!.consoleSize = { height: 30, width: 100 };
    }),
  });
  t.ok(c.terminal, 'create() gives the terminal');
  t.equal(c.stdout, undefined, 'and no stdio pipes');
  t.same(existsSync('/run/berth/.console') ? readdirSync('/run/berth/.console') : [], [], 'the console socket is gone once used');
  let out = '';
  let closed = false;
  c.terminal!.stream.on('data', (d) => (out += d));
  c.terminal!.stream.on('close', () => (closed = true));
  await c.start();
  t.ok(await until(() => /30 100/.test(out)), 'consoleSize is the initial size');
  t.match(out, /^\/dev\/pts\/0\r\n/, 'pts 0 of the container\'s own devpts');
  c.terminal!.resize(120, 40);
  c.terminal!.stream.write('hello\r');
  const exit = await c.wait();
  t.equal(exit.exitCode, 3);
  t.ok(await until(() => closed), 'the stream closes after the exit');
  t.match(out, /got:hello\r\n/, 'input reached the process');
  t.match(out, /40 120\r\n/, 'resize reached the process');
  await c.delete();
});

t.test('a terminal the process never uses still leaves nothing', async (t) => {
  const c = await Container.create({ spec: spec(['true'], (s) => (s.process!.terminal = true)) });
  await c.delete({ force: true });
  t.ok(c.terminal!.stream.destroyed, 'delete() closes the terminal');
  t.same(existsSync('/run/berth/.console') ? readdirSync('/run/berth/.console') : [], []);
});

t.test('run() with a terminal: stdout is what the terminal showed', async (t) => {
  const r = await run({ spec: spec(['sh', '-c', 'read x; echo "[$x]" >&2; exit 4'], (s) => (s.process!.terminal = true)), input: 'typed\r' });
  t.equal(r.exitCode, 4);
  t.match(r.stdout.toString(), /typed\r\n\[typed\]\r\n/, 'the echo of the input, then the output');
});
