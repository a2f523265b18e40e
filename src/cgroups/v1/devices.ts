// v1 devices: the policy as devices.allow/devices.deny lines, written as the
// fewest changes from what devices.list holds now (device-state.ts).
import type { Controller } from '../controller.js';
import { devicePolicy } from '../devices.js';
import { badValue } from '../errors.js';
import type { Device } from '../../spec/types.js';
import { deviceTransition, parseDevicesList, policyState, sameState } from './device-state.js';

/** linux.devices are allowed too: the driver passes them in. */
export function devices(linuxDevices: readonly Device[] = []): Controller {
  return {
    name: 'devices',
    fieldsSet: (r) => (r.devices ? ['devices'] : []),
    set(f, r) {
      if (!r.devices) return;
      const target = policyState(devicePolicy(r.devices, linuxDevices));
      const list = f.read('devices.list');
      for (const w of deviceTransition(list === undefined ? undefined : parseDevicesList(list), target)) f.write(w.file, w.value, 'devices');
      // As runc: the kernel must now hold exactly the target (a deny-default one shows all its exceptions).
      const after = list === undefined || target.defaultAllow ? undefined : f.read('devices.list');
      if (after !== undefined && !sameState(parseDevicesList(after), target))
        throw badValue(f.field('devices'), `devices.list does not match the policy after writing it: ${JSON.stringify(after.trim())}`, f.step);
    },
  };
}
