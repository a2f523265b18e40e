// v2 devices: the policy compiled to eBPF (bpf.ts), attached to the
// cgroup directory. A new program goes on before the old ones come off, so
// there is never a moment without a filter (programs attached with
// BPF_F_ALLOW_MULTI must all allow an access).
import { closeSync, constants, openSync } from 'node:fs';
import { native } from '../../native.js';
import type { Device } from '../../spec/types.js';
import type { Controller } from '../controller.js';
import { devicePolicy } from '../devices.js';
import { fsError } from '../errors.js';
import { devicePolicyProgram } from './bpf.js';

const BPF_PROG_TYPE_CGROUP_DEVICE = 15;
const BPF_CGROUP_DEVICE = 6;
const BPF_F_ALLOW_MULTI = 2;

export function devices(linuxDevices: readonly Device[] = []): Controller {
  return {
    // Not a controller of cgroup.controllers: always there where BPF is.
    name: 'devices',
    fieldsSet: () => [],
    set(f, r) {
      if (!r.devices) return;
      const n = native();
      const program = devicePolicyProgram(devicePolicy(r.devices, linuxDevices));
      let dirFd = -1;
      let progFd = -1;
      try {
        dirFd = openSync(f.dir, constants.O_RDONLY | constants.O_DIRECTORY);
        const old = n.bpfProgQuery(dirFd, BPF_CGROUP_DEVICE);
        progFd = n.bpfProgLoad(BPF_PROG_TYPE_CGROUP_DEVICE, program, 'Apache');
        n.bpfProgAttach(progFd, dirFd, BPF_CGROUP_DEVICE, BPF_F_ALLOW_MULTI);
        for (const id of old) {
          const fd = n.bpfProgGetFdById(id);
          try {
            n.bpfProgDetach(fd, dirFd, BPF_CGROUP_DEVICE);
          } finally {
            n.close(fd);
          }
        }
      } catch (e) {
        const err = e as NodeJS.ErrnoException;
        err.path ??= f.dir;
        throw fsError(err, f.step, f.field('devices'), (err as { verifierLog?: string }).verifierLog);
      } finally {
        if (progFd >= 0) n.close(progFd);
        if (dirFd >= 0) closeSync(dirFd);
      }
    },
  };
}
