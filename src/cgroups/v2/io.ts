// v2 io: io.weight (from OCI's blkio weight) or, under BFQ, io.bfq.weight
// (which takes blkio's range as it is); io.max for the throttles; io.stat.
import type { ThrottleDevice } from '../../spec/types.js';
import { blkioWeightToIoWeight, ioMaxLine } from '../convert.js';
import { setFields, type Controller } from '../controller.js';
import { badValue } from '../errors.js';
import { parseIoStat } from '../stats.js';

const noDevice = (code: string | undefined) => (code === 'ENODEV' ? 'no such block device' : undefined);

const THROTTLES = [
  ['throttleReadBpsDevice', 'rbps'],
  ['throttleWriteBpsDevice', 'wbps'],
  ['throttleReadIOPSDevice', 'riops'],
  ['throttleWriteIOPSDevice', 'wiops'],
] as const;

export const io: Controller = {
  name: 'io',
  fieldsSet: (r) => setFields('blockIO', r.blockIO),
  set(f, r) {
    const b = r.blockIO;
    if (!b) return;
    if (b.leafWeight) throw badValue(f.field('blockIO.leafWeight'), 'cgroup v2 has no leaf weights', f.step);
    const bfq = f.has('io.bfq.weight');
    const weight = (w: number) => (bfq ? w : blkioWeightToIoWeight(w));
    const file = bfq ? 'io.bfq.weight' : 'io.weight';
    if (b.weight) f.writeFirst([file], weight(b.weight), 'blockIO.weight', 'this kernel has no io.weight');
    b.weightDevice?.forEach((d, i) => {
      if (d.leafWeight) throw badValue(f.field(`blockIO.weightDevice[${i}].leafWeight`), 'cgroup v2 has no leaf weights', f.step);
      if (d.weight) f.write(file, `${d.major}:${d.minor} ${weight(d.weight)}`, `blockIO.weightDevice[${i}].weight`, noDevice);
    });
    for (const [key, limit] of THROTTLES)
      (b[key] as ThrottleDevice[] | undefined)?.forEach((d, i) =>
        f.write('io.max', ioMaxLine(`${d.major}:${d.minor}`, { [limit]: d.rate }), `blockIO.${key}[${i}]`, noDevice),
      );
  },
  stats(f, s) {
    s.blkio = parseIoStat(f.read('io.stat'));
  },
};
