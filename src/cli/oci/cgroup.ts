// The container's cgroup, for the verbs: the driver from the state record,
// and the status that includes "paused" (frozen).
import { openCgroup, type CgroupDriver } from '../../cgroups/index.js';
import type { OciState, StateRecord, StateStore } from '../../runtime/state.js';

export function containerCgroup(rec: StateRecord): CgroupDriver {
  return openCgroup({ path: rec.cgroupPath, resources: rec.spec.linux?.resources, devices: rec.spec.linux?.devices });
}

export async function liveState(store: StateStore, rec: StateRecord): Promise<OciState> {
  const s = store.ociState(rec);
  if (s.status === 'running' && rec.cgroupPath && (await containerCgroup(rec).freezerState().catch(() => 'thawed')) !== 'thawed') s.status = 'paused';
  return s;
}
