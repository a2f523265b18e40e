// rdma (v1 and v2): rdma.max per device.
import { rdmaLine } from './convert.js';
import type { Controller } from './controller.js';

export const rdma: Controller = {
  name: 'rdma',
  fieldsSet: (r) => Object.keys(r.rdma ?? {}).map((d) => `rdma[${JSON.stringify(d)}]`),
  set(f, r) {
    for (const [dev, l] of Object.entries(r.rdma ?? {})) f.write('rdma.max', rdmaLine(dev, l), `rdma[${JSON.stringify(dev)}]`);
  },
};
