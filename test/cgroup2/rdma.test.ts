// cgroup v2 only: linux.resources.rdma lands in rdma.max, at create and on a
// live update; a device the kernel does not know is an error naming the
// field. The RDMA device is a soft-RoCE one (rdma_rxe) on a dummy link,
// made here and removed afterwards.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { create } from '../../src/index.js';
import { cgroupVersion } from '../../src/cgroups/index.js';
import { spec } from '../helpers.js';

const v2 = cgroupVersion() === 2;
const rdmaController = v2 && readFileSync('/sys/fs/cgroup/cgroup.controllers', 'utf8').split(/\s+/).includes('rdma');
const skip = !rdmaController && 'needs cgroup v2 with the rdma controller';
const link = `bthrd${process.pid % 100000}`;
const dev = `bthrxe${process.pid % 100000}`;

/** A soft-RoCE device on a dummy link, or why there is none. */
function makeDevice(t: { teardown(fn: () => void): void }): string | undefined {
  try {
    execFileSync('ip', ['link', 'add', link, 'type', 'dummy'], { stdio: 'pipe' });
  } catch (e) {
    return `no dummy link: ${(e as Error).message}`;
  }
  // One teardown, in this order (removing the link would take the device with it).
  let made = false;
  t.teardown(() => {
    if (made) execFileSync('rdma', ['link', 'delete', dev]);
    execFileSync('ip', ['link', 'del', link]);
  });
  try {
    execFileSync('ip', ['link', 'set', link, 'up']);
    execFileSync('rdma', ['link', 'add', dev, 'type', 'rxe', 'netdev', link], { stdio: 'pipe' });
  } catch (e) {
    return `no soft-RoCE device (rdma_rxe, iproute2's rdma): ${(e as Error).message}`;
  }
  made = true;
  return existsSync(`/sys/class/infiniband/${dev}`) ? undefined : `no /sys/class/infiniband/${dev}`;
}

t.test('rdma limits are written to rdma.max, and updated live', { skip }, async (t) => {
  const why = makeDevice(t);
  if (why) {
    t.comment(`skipped: ${why}`);
    return;
  }
  const c = await create({ spec: spec(['sh', '-c', 'read x'], (s) => (s.linux!.resources = { ...s.linux!.resources, rdma: { [dev]: { hcaHandles: 2, hcaObjects: 100 } } })) });
  t.teardown(() => c.delete({ force: true }));
  await c.start();
  const max = () => readFileSync(`/sys/fs/cgroup/berth/${c.id}/rdma.max`, 'utf8').split('\n').find((l) => l.startsWith(`${dev} `))?.trim();
  t.equal(max(), `${dev} hca_handle=2 hca_object=100`);
  await c.update({ rdma: { [dev]: { hcaHandles: 5, hcaObjects: 50 } } });
  t.equal(max(), `${dev} hca_handle=5 hca_object=50`, 'after update');
  c.stdin!.end('\n');
  await c.wait();
  // The guest's kernel (6.1) corrupts a list when an RDMA device goes while a
  // removed cgroup still holds limits on it: set them back to max (which frees
  // them) before the cgroup goes.
  writeFileSync(`/sys/fs/cgroup/berth/${c.id}/rdma.max`, `${dev} hca_handle=max hca_object=max`);
  await c.delete();
});

t.test('an rdma device the kernel does not know names the field, and leaves no cgroup', { skip }, async (t) => {
  const id = `rdma-bad-${process.pid}`;
  const e = await create({ id, spec: spec(['true'], (s) => (s.linux!.resources = { ...s.linux!.resources, rdma: { nosuch0: { hcaHandles: 1 } } })) }).then(
    (c) => c.delete({ force: true }),
    (x: Error) => x,
  );
  t.match((e as Error)?.message, /^linux\.resources\.rdma\["nosuch0"\]: ENODEV/);
  t.notOk(existsSync(`/sys/fs/cgroup/berth/${id}`), 'no cgroup left');
});
