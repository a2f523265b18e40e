// Compiles a device policy into a BPF_PROG_TYPE_CGROUP_DEVICE program (cgroup
// v2 has no devices.allow: the kernel runs this program on every open and
// mknod of a device node and allows the access if it returns 1).
//
// The program decides each requested access bit (r, w, m) on its own, with
// the rule that matched it last in spec order, as policyAllows() does; an
// access is allowed when every requested bit is. So rules compose as on v1:
// "allow c 1:3 r" then "allow c 1:3 w" allows opening 1:3 read-write.
import type { DevicePolicy } from '../devices.js';

/** struct bpf_cgroup_dev_ctx: u32 access_type (access << 16 | type), u32 major, u32 minor. */
export const DEV = { block: 1, char: 2 } as const;
export const ACC = { m: 1, r: 2, w: 4 } as const;

type Label = string;
interface Insn {
  code: number;
  dst: number;
  src: number;
  off: number | Label;
  imm: number;
}

const R0 = 0, R1 = 1, R2 = 2, R3 = 3, R4 = 4, R5 = 5;
const ldxw = (dst: number, src: number, off: number): Insn => ({ code: 0x61, dst, src, off, imm: 0 });
const and32 = (dst: number, imm: number): Insn => ({ code: 0x54, dst, src: 0, off: 0, imm });
const rsh32 = (dst: number, imm: number): Insn => ({ code: 0x74, dst, src: 0, off: 0, imm });
const mov32 = (dst: number, imm: number): Insn => ({ code: 0xb4, dst, src: 0, off: 0, imm });
/** if (u32)dst != imm goto off */
const jne32 = (dst: number, imm: number, off: Label): Insn => ({ code: 0x56, dst, src: 0, off, imm });
/** if dst & imm goto off */
const jset = (dst: number, imm: number, off: number): Insn => ({ code: 0x45, dst, src: 0, off, imm });
const ja = (off: Label): Insn => ({ code: 0x05, dst: 0, src: 0, off, imm: 0 });
const exit = (): Insn => ({ code: 0x95, dst: 0, src: 0, off: 0, imm: 0 });

/** The program as the kernel loads it: 8 bytes per instruction. */
export function devicePolicyProgram(p: DevicePolicy): Buffer {
  const insns: Insn[] = [];
  const labels = new Map<Label, number>();
  const mark = (l: Label) => labels.set(l, insns.length);
  let n = 0;
  const fresh = () => `L${n++}`;

  insns.push(
    ldxw(R2, R1, 0), and32(R2, 0xffff), // R2 = device type
    ldxw(R3, R1, 0), rsh32(R3, 16), // R3 = requested access bits
    ldxw(R4, R1, 4), // R4 = major
    ldxw(R5, R1, 8), // R5 = minor
  );
  const reversed = [...p.rules].reverse();
  let denies = false;
  // The verifier refuses unreachable instructions: nothing is emitted after a rule that matches every device.
  for (const [letter, bit] of Object.entries(ACC)) {
    const next = fresh();
    insns.push(jset(R3, bit, 1), ja(next));
    let decided = false;
    for (const r of reversed) {
      if (!r.access.includes(letter)) continue;
      const skip = fresh();
      const before = insns.length;
      if (r.type !== 'a') insns.push(jne32(R2, r.type === 'c' ? DEV.char : DEV.block, skip));
      if (r.major >= 0) insns.push(jne32(R4, r.major | 0, skip));
      if (r.minor >= 0) insns.push(jne32(R5, r.minor | 0, skip));
      decided = insns.length === before;
      insns.push(ja(r.allow ? next : 'deny'));
      denies ||= !r.allow;
      if (decided) break;
      mark(skip);
    }
    if (!decided && !p.defaultAllow) {
      insns.push(ja('deny'));
      denies = true;
    }
    mark(next);
  }
  insns.push(mov32(R0, 1), exit());
  if (denies) {
    mark('deny');
    insns.push(mov32(R0, 0), exit());
  }

  const buf = Buffer.alloc(insns.length * 8);
  insns.forEach((ins, pc) => {
    const off = typeof ins.off === 'number' ? ins.off : labels.get(ins.off)! - pc - 1;
    buf.writeUInt8(ins.code, pc * 8);
    buf.writeUInt8((ins.src << 4) | ins.dst, pc * 8 + 1);
    buf.writeInt16LE(off, pc * 8 + 2);
    buf.writeInt32LE(ins.imm, pc * 8 + 4);
  });
  return buf;
}
