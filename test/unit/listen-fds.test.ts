import t from 'tap';
import { withListenFds } from '../../src/cli/oci/listen-fds.js';
import { defaultSpec } from '../../src/spec/defaults.js';

t.test('no LISTEN_FDS: the spec and fd count stay', async (t) => {
  const s = defaultSpec();
  const r = withListenFds(s, 2, {});
  t.equal(r.spec, s);
  t.equal(r.fds, 2);
});

t.test('LISTEN_FDS=3: three more fds, env replaced, LISTEN_PID=1', async (t) => {
  const s = defaultSpec();
  s.process!.env = ['PATH=/bin', 'LISTEN_PID=99'];
  const r = withListenFds(s, 1, { LISTEN_FDS: '3', LISTEN_FDNAMES: 'a:b:c' });
  t.equal(r.fds, 4);
  t.same(r.spec.process!.env, ['PATH=/bin', 'LISTEN_FDS=3', 'LISTEN_PID=1', 'LISTEN_FDNAMES=a:b:c']);
  t.same(s.process!.env, ['PATH=/bin', 'LISTEN_PID=99'], 'the input spec is not changed');
});

t.test('a malformed LISTEN_FDS is ignored', async (t) => {
  t.equal(withListenFds(defaultSpec(), 0, { LISTEN_FDS: 'x' }).fds, 0);
  t.equal(withListenFds(defaultSpec(), 0, { LISTEN_FDS: '-1' }).fds, 0);
});
