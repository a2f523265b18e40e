// v1 devices: the policy as devices.allow/devices.deny lines.
import type { Controller } from '../controller.js';
import { devicePolicy, v1DeviceWrites } from '../devices.js';
import type { Device } from '../../spec/types.js';

/** linux.devices are allowed too: the driver passes them in. */
export function devices(linuxDevices: readonly Device[] = []): Controller {
  return {
    name: 'devices',
    fieldsSet: (r) => (r.devices ? ['devices'] : []),
    set(f, r) {
      if (!r.devices) return;
      for (const w of v1DeviceWrites(devicePolicy(r.devices, linuxDevices))) f.write(w.file, w.value, 'devices');
    },
  };
}
