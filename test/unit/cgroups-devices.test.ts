// Device policy: the rules berth builds, their v1 lines, and the v2 eBPF
// program, run here by a small interpreter and compared with the policy's
// own answer for many accesses.
import t from 'tap';
import { ALLOWED_DEVICES, devicePolicy, policyAllows, v1DeviceWrites, type DevicePolicy } from '../../src/cgroups/devices.js';
import { ACC, DEV, devicePolicyProgram } from '../../src/cgroups/v2/bpf.js';
import type { DeviceCgroup } from '../../src/spec/types.js';

/** Runs a cgroup device program on one access: the instructions bpf.ts emits, nothing else. */
function run(prog: Buffer, type: 'c' | 'b', major: number, minor: number, access: string): number {
  const ctx = [((([...access].reduce((a, c) => a | ACC[c as 'r'], 0)) << 16) | DEV[type === 'c' ? 'char' : 'block']) >>> 0, major >>> 0, minor >>> 0];
  const r = new Array<number>(11).fill(0);
  for (let pc = 0, steps = 0; steps < 100000; steps++) {
    const code = prog.readUInt8(pc * 8);
    const regs = prog.readUInt8(pc * 8 + 1);
    const dst = regs & 0xf;
    const off = prog.readInt16LE(pc * 8 + 2);
    const imm = prog.readInt32LE(pc * 8 + 4);
    pc++;
    switch (code) {
      case 0x61: // ldxw dst = ctx[off/4] (src is R1, the context)
        r[dst] = ctx[off / 4]!;
        break;
      case 0x54: r[dst] = (r[dst]! & imm) >>> 0; break;
      case 0x74: r[dst] = r[dst]! >>> imm; break;
      case 0xb4: r[dst] = imm >>> 0; break;
      case 0x56: if (r[dst]! >>> 0 !== imm >>> 0) pc += off; break;
      case 0x45: if ((r[dst]! & imm) !== 0) pc += off; break;
      case 0x05: pc += off; break;
      case 0x95: return r[0]!;
      default: throw new Error(`opcode ${code.toString(16)} at ${pc - 1}`);
    }
    if (pc < 0 || pc * 8 >= prog.length) throw new Error(`jump out of the program to ${pc}`);
  }
  throw new Error('no exit');
}

/** Instructions no path reaches: the kernel's verifier refuses a program that has any. */
function unreachable(prog: Buffer): number[] {
  const n = prog.length / 8;
  const seen = new Set<number>();
  const todo = [0];
  while (todo.length) {
    const pc = todo.pop()!;
    if (pc >= n || seen.has(pc)) continue;
    seen.add(pc);
    const code = prog.readUInt8(pc * 8);
    const off = prog.readInt16LE(pc * 8 + 2);
    if (code === 0x95) continue;
    if (code === 0x05) todo.push(pc + 1 + off);
    else if (code === 0x56 || code === 0x45) todo.push(pc + 1, pc + 1 + off);
    else todo.push(pc + 1);
  }
  return [...Array(n).keys()].filter((i) => !seen.has(i));
}

const deny = (o: Partial<DeviceCgroup> = {}): DeviceCgroup => ({ allow: false, access: 'rwm', ...o });
const allow = (o: Partial<DeviceCgroup> = {}): DeviceCgroup => ({ allow: true, access: 'rwm', ...o });

t.test('the effective policy: default deny, spec rules, runc allowed devices, linux.devices', async (t) => {
  const p = devicePolicy([deny()], [{ type: 'b', path: '/dev/loop7', major: 7, minor: 7 }]);
  t.equal(p.defaultAllow, false);
  t.equal(p.rules.length, ALLOWED_DEVICES.length + 1, 'the deny-all rule resets, so it is dropped');
  t.same(p.rules.at(-1), { allow: true, type: 'b', major: 7, minor: 7, access: 'rwm' });
  t.ok(policyAllows(p, 'c', 1, 3, 'rw'), '/dev/null');
  t.ok(policyAllows(p, 'c', 136, 4, 'rw'), 'a pty');
  t.ok(policyAllows(p, 'b', 8, 0, 'm'), 'mknod of anything');
  t.notOk(policyAllows(p, 'b', 8, 0, 'r'), 'but not reading /dev/sda');
  const open = devicePolicy([allow()]);
  t.equal(open.defaultAllow, true);
  t.ok(policyAllows(open, 'b', 8, 0, 'rw'), 'allow-all allows');
});

t.test('v1 lines', async (t) => {
  const w = v1DeviceWrites(devicePolicy([deny(), allow({ type: 'c', major: 10, minor: 200 }), allow({ major: 4, access: 'r' })]));
  t.same(w[0], { file: 'devices.deny', value: 'a' }, 'the default first');
  t.same(w[1], { file: 'devices.allow', value: 'c 10:200 rwm' });
  t.same(w.slice(2, 4), [
    { file: 'devices.allow', value: 'c 4:* r' },
    { file: 'devices.allow', value: 'b 4:* r' },
  ], 'a partial "all types" rule is one line per type');
  t.ok(w.some((x) => x.value === 'c *:* m'));
  const open = v1DeviceWrites(devicePolicy([allow(), deny({ type: 'b', major: 8, minor: 0, access: 'w' })]));
  t.same(open[0], { file: 'devices.allow', value: 'a' });
  t.same(open[1], { file: 'devices.deny', value: 'b 8:0 w' });
});

t.test('the eBPF program agrees with the policy', async (t) => {
  const policies: [string, DevicePolicy][] = [
    ['runc default', devicePolicy([deny()])],
    ['podman: deny all, pids', devicePolicy([deny()], [{ type: 'c', path: '/dev/fuse', major: 10, minor: 229 }])],
    ['allow all but sda writes', devicePolicy([allow(), deny({ type: 'b', major: 8, minor: 0, access: 'w' })])],
    ['later rules win', devicePolicy([deny(), allow({ type: 'c', major: 4 }), deny({ type: 'c', major: 4, minor: 1, access: 'r' })])],
    ['access split over two rules', devicePolicy([deny(), allow({ type: 'c', major: 4, minor: 2, access: 'r' }), allow({ type: 'c', major: 4, minor: 2, access: 'w' })])],
    ['no rules at all', devicePolicy([])],
    ['allow all', devicePolicy([allow()])],
    ['read anything, write little', devicePolicy([deny(), allow({ access: 'r' }), allow({ type: 'c', major: 1, minor: 3, access: 'w' })])],
    ['deny mknod of everything at the end', devicePolicy([allow(), deny({ access: 'm' })])],
    ['big numbers', devicePolicy([deny(), allow({ type: 'c', major: 4294967295, minor: 2147483648 })])],
  ];
  const majors = [0, 1, 4, 5, 7, 8, 10, 136, 4294967295];
  const minors = [0, 1, 2, 3, 5, 8, 229, 2147483648];
  for (const [name, p] of policies) {
    const prog = devicePolicyProgram(p);
    let checked = 0;
    let wrong = '';
    for (const type of ['c', 'b'] as const)
      for (const major of majors)
        for (const minor of minors)
          for (const access of ['r', 'w', 'm', 'rw', 'rwm', 'wm']) {
            const want = policyAllows(p, type, major, minor, access) ? 1 : 0;
            const got = run(prog, type, major, minor, access);
            checked++;
            if (got !== want && !wrong) wrong = `${type} ${major}:${minor} ${access}: program ${got}, policy ${want}`;
          }
    t.equal(wrong, '', `${name}: ${checked} accesses, ${prog.length / 8} instructions`);
    t.same(unreachable(prog), [], `${name}: every instruction reachable`);
  }
  const split = policies.find(([n]) => n === 'access split over two rules')![1];
  t.ok(policyAllows(split, 'c', 4, 2, 'rw'), 'r from one rule and w from another open read-write (as v1 merges them)');
  const later = policies.find(([n]) => n === 'later rules win')![1];
  t.notOk(policyAllows(later, 'c', 4, 1, 'rw'), 'a later deny of r wins over the earlier allow');
  t.ok(policyAllows(later, 'c', 4, 1, 'w'));
});
