// v1 net_cls and net_prio: the class id of the container's packets, and
// priorities per network interface.
import { setFields, type Controller } from '../controller.js';

export const netCls: Controller = {
  name: 'net_cls',
  fieldsSet: (r) => setFields('network', r.network, ['classID']),
  set(f, r) {
    if (r.network?.classID !== undefined) f.write('net_cls.classid', r.network.classID, 'network.classID');
  },
};

export const netPrio: Controller = {
  name: 'net_prio',
  fieldsSet: (r) => setFields('network', r.network, ['priorities']),
  set(f, r) {
    r.network?.priorities?.forEach((p, i) => f.write('net_prio.ifpriomap', `${p.name} ${p.priority}`, `network.priorities[${i}]`));
  },
};
