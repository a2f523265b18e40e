// v1 devices: the kernel's state read from devices.list, the state a policy
// leaves, and the fewest writes from one to the other (a live update never
// writes "a", so never passes through deny-all and works with children).
import t from 'tap';
import { devicePolicy } from '../../src/cgroups/devices.js';
import { deviceTransition, parseDevicesList, playWrites, policyState, sameState, type V1DeviceState, type V1DeviceWrite } from '../../src/cgroups/v1/device-state.js';
import type { DeviceCgroup } from '../../src/spec/types.js';

const state = (defaultAllow: boolean, e: Record<string, string> = {}): V1DeviceState => ({ defaultAllow, exceptions: new Map(Object.entries(e)) });
const allow = (v: string): V1DeviceWrite => ({ file: 'devices.allow', value: v });
const deny = (v: string): V1DeviceWrite => ({ file: 'devices.deny', value: v });
const plain = (s: V1DeviceState) => ({ defaultAllow: s.defaultAllow, exceptions: Object.fromEntries(s.exceptions) });

t.test('devices.list is read as the kernel writes it', async (t) => {
  t.same(plain(parseDevicesList('a *:* rwm\n')), { defaultAllow: true, exceptions: {} }, 'allow-all (its deny exceptions are not shown)');
  t.same(plain(parseDevicesList('')), { defaultAllow: false, exceptions: {} }, 'deny-all: nothing listed');
  t.same(plain(parseDevicesList('c *:* m\nb *:* m\nc 1:3 rwm\nc 136:* rwm\nc 1:3 r\n')), {
    defaultAllow: false,
    exceptions: { 'c *:*': 'm', 'b *:*': 'm', 'c 1:3': 'rwm', 'c 136:*': 'rwm' },
  });
});

t.test('writes are played as the kernel does', async (t) => {
  const cases: [string, V1DeviceState, V1DeviceWrite[], V1DeviceState][] = [
    ['"a" resets to deny-all', state(false, { 'c 1:3': 'rwm' }), [deny('a')], state(false)],
    ['"a" resets to allow-all', state(false, { 'c 1:3': 'rwm' }), [allow('a')], state(true)],
    ['an allow in deny mode adds, merging bits', state(false, { 'c 1:3': 'r' }), [allow('c 1:3 wm'), allow('c 1:5 r')], state(false, { 'c 1:3': 'rwm', 'c 1:5': 'r' })],
    ['a deny in deny mode takes bits of that exact exception', state(false, { 'c 1:3': 'rwm' }), [deny('c 1:3 w')], state(false, { 'c 1:3': 'rm' })],
    ['all bits taken: the exception goes', state(false, { 'c 1:3': 'rw' }), [deny('c 1:3 rwm')], state(false)],
    ['a deny does not punch into a wildcard', state(false, { 'c 1:*': 'rwm' }), [deny('c 1:3 rwm')], state(false, { 'c 1:*': 'rwm' })],
    ['in allow mode a deny adds an exception, an allow takes it back', state(true), [deny('b 8:0 w'), deny('c 1:5 rw'), allow('c 1:5 r')], state(true, { 'b 8:0': 'w', 'c 1:5': 'w' })],
  ];
  for (const [name, from, writes, want] of cases) t.same(plain(playWrites(from, writes)), plain(want), name);
});

t.test('a policy leaves the state the old full rewrite left', async (t) => {
  const s = policyState(devicePolicy([{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 10, minor: 200, access: 'rw' }]));
  t.equal(s.defaultAllow, false);
  t.equal(s.exceptions.get('c 1:3'), 'rwm', '/dev/null');
  t.equal(s.exceptions.get('c 10:200'), 'rw', 'the rule');
  t.equal(s.exceptions.get('c *:*'), 'm', 'mknod of anything');
  const open = policyState(devicePolicy([{ allow: true, access: 'rwm' }, { allow: false, type: 'b', major: 8, minor: 0, access: 'w' }]));
  t.same(plain(open), { defaultAllow: true, exceptions: { 'b 8:0': 'w' } }, 'allow-all with one deny');
});

t.test('transitions: the fewest writes, and "a" only where it must be', async (t) => {
  const base = { 'c 1:3': 'rwm', 'c 1:5': 'rwm' };
  const cases: [string, V1DeviceState | undefined, V1DeviceState, V1DeviceWrite[]][] = [
    ['nothing to do', state(false, base), state(false, base), []],
    ['a device added: one allow line', state(false, { 'c 1:3': 'rwm' }), state(false, base), [allow('c 1:5 rwm')]],
    ['a device removed: one deny line', state(false, base), state(false, { 'c 1:3': 'rwm' }), [deny('c 1:5 rwm')]],
    ['bits change on one device: what goes first, then what comes', state(false, { 'c 10:200': 'rw' }), state(false, { 'c 10:200': 'rm' }), [deny('c 10:200 w'), allow('c 10:200 m')]],
    ['wildcards are exceptions like the others', state(false, { 'c 136:*': 'rwm' }), state(false, { 'c 136:*': 'r', 'b *:*': 'm' }), [deny('c 136:* wm'), allow('b *:* m')]],
    ['unknown (no devices.list): reset, then everything', undefined, state(false, { 'c 1:3': 'rwm' }), [deny('a'), allow('c 1:3 rwm')]],
    ['from allow-all (a new cgroup) to deny: reset, then the allows', state(true), state(false, { 'c 1:3': 'rw' }), [deny('a'), allow('c 1:3 rw')]],
    ['from deny to allow-all with denies', state(false, base), state(true, { 'b 8:0': 'w' }), [allow('a'), deny('b 8:0 w')]],
    ['allow-all to allow-all: its exceptions are not listed, so reset', state(true), state(true), [allow('a')]],
  ];
  for (const [name, from, to, want] of cases) {
    const w = deviceTransition(from, to);
    t.same(w, want, name);
    t.ok(sameState(playWrites(from ?? state(true), w), to), `${name}: the writes reach the target`);
  }
});

t.test('every transition between random deny-mode policies is minimal, reaches its target, and writes no "a"', async (t) => {
  let seed = 7;
  const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
  const randomRules = (): DeviceCgroup[] =>
    Array.from({ length: rnd(6) }, () => ({
      allow: rnd(3) > 0,
      type: (['c', 'b'] as const)[rnd(2)],
      major: [1, 10, 136, -1][rnd(4)],
      minor: [3, 5, 200, -1][rnd(4)],
      access: ['r', 'w', 'rw', 'rwm', 'm'][rnd(5)],
    })).map((r) => ({ ...r, major: r.major! < 0 ? undefined : r.major, minor: r.minor! < 0 ? undefined : r.minor }));
  let ok = 0;
  for (let i = 0; i < 300; i++) {
    const a = policyState(devicePolicy(randomRules()));
    const b = policyState(devicePolicy(randomRules()));
    const w = deviceTransition(a, b);
    const kept = [...a.exceptions].filter(([k, v]) => b.exceptions.get(k) === v).length;
    if (sameState(playWrites(a, w), b) && !w.some((x) => x.value === 'a') && w.length <= a.exceptions.size + b.exceptions.size - kept) ok++;
  }
  t.equal(ok, 300);
});
