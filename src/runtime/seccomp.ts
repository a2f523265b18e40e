// linux.seccomp → the BPF program the setup process loads. The OCI names
// map to libseccomp's numbers here; libseccomp (in the addon) compiles.
import { native, type SeccompProgramInput } from '../native.js';
import { SpecError } from '../spec/errors.js';
import type { Seccomp } from '../spec/types.js';

const EPERM = 1;

function action(name: string, errnoRet: number | undefined, field: string): number {
  switch (name) {
    case 'SCMP_ACT_KILL':
    case 'SCMP_ACT_KILL_THREAD':
      return 0x00000000;
    case 'SCMP_ACT_KILL_PROCESS':
      return 0x80000000;
    case 'SCMP_ACT_TRAP':
      return 0x00030000;
    case 'SCMP_ACT_ERRNO':
      return (0x00050000 | ((errnoRet ?? EPERM) & 0xffff)) >>> 0;
    case 'SCMP_ACT_TRACE':
      return (0x7ff00000 | ((errnoRet ?? EPERM) & 0xffff)) >>> 0;
    case 'SCMP_ACT_LOG':
      return 0x7ffc0000;
    case 'SCMP_ACT_ALLOW':
      return 0x7fff0000;
    default:
      throw new SpecError(field, `${name} is not supported`);
  }
}

const OPS: Record<string, number> = {
  SCMP_CMP_NE: 1,
  SCMP_CMP_LT: 2,
  SCMP_CMP_LE: 3,
  SCMP_CMP_EQ: 4,
  SCMP_CMP_GE: 5,
  SCMP_CMP_GT: 6,
  SCMP_CMP_MASKED_EQ: 7,
};

export const SECCOMP_FLAG_BITS: Record<string, number> = {
  SECCOMP_FILTER_FLAG_TSYNC: 1,
  SECCOMP_FILTER_FLAG_LOG: 2,
  SECCOMP_FILTER_FLAG_SPEC_ALLOW: 4,
  SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV: 32,
};

const ARCHES: Record<string, string> = {
  SCMP_ARCH_X86: 'x86',
  SCMP_ARCH_X86_64: 'x86_64',
  SCMP_ARCH_X32: 'x32',
  SCMP_ARCH_ARM: 'arm',
  SCMP_ARCH_AARCH64: 'aarch64',
  SCMP_ARCH_MIPS: 'mips',
  SCMP_ARCH_MIPS64: 'mips64',
  SCMP_ARCH_MIPS64N32: 'mips64n32',
  SCMP_ARCH_MIPSEL: 'mipsel',
  SCMP_ARCH_MIPSEL64: 'mipsel64',
  SCMP_ARCH_MIPSEL64N32: 'mipsel64n32',
  SCMP_ARCH_PPC: 'ppc',
  SCMP_ARCH_PPC64: 'ppc64',
  SCMP_ARCH_PPC64LE: 'ppc64le',
  SCMP_ARCH_S390: 's390',
  SCMP_ARCH_S390X: 's390x',
  SCMP_ARCH_RISCV64: 'riscv64',
};

/** The libseccomp input for a profile: pure, so it is unit-tested without the addon. */
export function seccompInput(s: Seccomp, field = 'linux.seccomp'): SeccompProgramInput {
  if (s.listenerPath) throw new SpecError(`${field}.listenerPath`, 'SCMP_ACT_NOTIFY listeners are not supported');
  const rules: SeccompProgramInput['rules'] = [];
  (s.syscalls ?? []).forEach((sc, i) => {
    const f = `${field}.syscalls[${i}]`;
    const act = action(sc.action, sc.errnoRet, `${f}.action`);
    const args = (sc.args ?? []).map((a, k) => {
      const op = OPS[a.op];
      if (op === undefined) throw new SpecError(`${f}.args[${k}].op`, `unknown operator ${JSON.stringify(a.op)}`);
      return { index: a.index, op, value: BigInt(a.value), valueTwo: BigInt(a.valueTwo ?? 0) };
    });
    // libseccomp takes one condition per argument in a rule: conditions on
    // the same argument become rules of their own (as runc does).
    const sameArg = new Set(args.map((a) => a.index)).size !== args.length;
    for (const syscall of sc.names ?? []) {
      if (sameArg) for (const a of args) rules.push({ syscall, action: act, args: [a] });
      else rules.push({ syscall, action: act, args });
    }
  });
  return {
    defaultAction: action(s.defaultAction, s.defaultErrnoRet, `${field}.defaultAction`),
    architectures: (s.architectures ?? []).map((a, i) => {
      const name = ARCHES[a];
      if (!name) throw new SpecError(`${field}.architectures[${i}]`, `unknown architecture ${JSON.stringify(a)}`);
      return name;
    }),
    rules,
  };
}

export function seccompFlags(s: Seccomp, field = 'linux.seccomp.flags'): number {
  return (s.flags ?? []).reduce((acc, name, i) => {
    const bit = SECCOMP_FLAG_BITS[name];
    if (bit === undefined) throw new SpecError(`${field}[${i}]`, `unknown flag ${JSON.stringify(name)}`);
    return acc | bit;
  }, 0);
}

/** Compiles the profile; the BPF goes into the plan's `seccomp` op. */
export function compileSeccomp(s: Seccomp): { program: Buffer; flags: number } {
  const flags = seccompFlags(s);
  const { program } = native().seccompCompile(seccompInput(s));
  return { program, flags };
}
