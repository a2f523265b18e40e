// seccomp: OCI profiles compiled with the system's libseccomp and loaded
// before exec.
import t from 'tap';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { out, sh, testDir } from '../helpers.js';

t.test('a syscall denied with an errno fails inside; the rest works', async (t) => {
  const r = await sh('mkdir /tmp/x 2>&1; echo rc=$?; echo alive', (s) => {
    s.linux!.seccomp = {
      defaultAction: 'SCMP_ACT_ALLOW',
      architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
      syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 }],
    };
  });
  t.equal(r.exitCode, 0, r.stderr.toString());
  t.match(out(r), /Operation not permitted/);
  t.match(out(r), /rc=1\nalive/);
});

t.test('argument conditions: only the matching call is refused', async (t) => {
  // personality(0xffffffff) queries; refuse only personality(8) (PER_LINUX32... any value).
  const r = await sh('echo $(cat /proc/self/status | grep Seccomp:)', (s) => {
    s.process!.noNewPrivileges = true;
    s.linux!.seccomp = {
      defaultAction: 'SCMP_ACT_ALLOW',
      syscalls: [{ names: ['personality'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 8, op: 'SCMP_CMP_EQ' }] }],
    };
  });
  t.equal(r.exitCode, 0, r.stderr.toString());
  t.match(out(r), /Seccomp:\s+2/, 'filter mode');
});

t.test('SCMP_ACT_KILL_PROCESS ends the process with SIGSYS', async (t) => {
  const r = await sh('exec sleep 0', (s) => {
    s.linux!.seccomp = {
      defaultAction: 'SCMP_ACT_ALLOW',
      syscalls: [{ names: ['nanosleep', 'clock_nanosleep'], action: 'SCMP_ACT_KILL_PROCESS' }],
    };
  });
  t.equal(r.signal, 'SIGSYS');
  t.equal(r.exitCode, 128 + 31);
});

// linux.seccomp as podman 4.3 generates it (recorded in ../shared/clients).
const podmanConfig = join(testDir, '..', '..', 'shared', 'clients', 'configs', 'podman-runc-01-run-rm-echo.config.json');
t.test("podman's default profile runs a shell", { skip: !existsSync(podmanConfig) && 'no recorded podman config' }, async (t) => {
  const profile = JSON.parse(readFileSync(podmanConfig, 'utf8')).linux.seccomp;
  const r = await sh('echo ok; unshare -U true 2>/dev/null && echo unshared || echo refused', (s) => {
    s.linux!.seccomp = profile;
  });
  t.equal(r.exitCode, 0, r.stderr.toString());
  t.match(out(r), /^ok\n/);
});

t.test('null for an absent list (as Go encoders write it) is taken as absent', async (t) => {
  const r = await sh('echo ok', (s) => {
    s.linux!.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO', args: null as never }] };
  });
  t.equal(r.exitCode, 0, r.stderr.toString());
});

t.test('a bad profile names the field', async (t) => {
  const e = await sh('true', (s) => (s.linux!.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_NOPE'] })).catch((e) => e);
  t.equal(e.field, 'linux.seccomp.architectures[0]');
  t.match(e.message, /unknown architecture "SCMP_ARCH_NOPE"/);
});
