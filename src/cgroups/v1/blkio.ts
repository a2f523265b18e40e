// v1 blkio: weights (CFQ's blkio.weight or BFQ's blkio.bfq.weight, whichever
// the kernel has), per-device weights, throttling; I/O figures per device.
import type { ThrottleDevice } from '../../spec/types.js';
import { setFields, type Controller, type Files } from '../controller.js';
import { badValue } from '../errors.js';
import { parseBlkio } from '../stats.js';

const NO_WEIGHT = 'needs the BFQ or CFQ I/O scheduler: this host has no blkio.weight or blkio.bfq.weight';
const noDevice = (code: string | undefined) => (code === 'ENODEV' ? 'no such block device' : undefined);

export const THROTTLES = [
  ['throttleReadBpsDevice', 'blkio.throttle.read_bps_device'],
  ['throttleWriteBpsDevice', 'blkio.throttle.write_bps_device'],
  ['throttleReadIOPSDevice', 'blkio.throttle.read_iops_device'],
  ['throttleWriteIOPSDevice', 'blkio.throttle.write_iops_device'],
] as const;

export const blkio: Controller = {
  name: 'blkio',
  fieldsSet: (r) => setFields('blockIO', r.blockIO),
  set(f: Files, r) {
    const b = r.blockIO;
    if (!b) return;
    if (b.weight) f.writeFirst(['blkio.weight', 'blkio.bfq.weight'], b.weight, 'blockIO.weight', NO_WEIGHT);
    if (b.leafWeight) f.writeFirst(['blkio.leaf_weight'], b.leafWeight, 'blockIO.leafWeight', 'needs the CFQ I/O scheduler (no blkio.leaf_weight)');
    b.weightDevice?.forEach((d, i) => {
      const dev = `${d.major}:${d.minor}`;
      const field = `blockIO.weightDevice[${i}]`;
      if (d.weight) {
        const file = ['blkio.weight_device', 'blkio.bfq.weight_device'].find((x) => f.has(x));
        if (!file) throw badValue(f.field(`${field}.weight`), NO_WEIGHT, f.step);
        f.write(file, `${dev} ${d.weight}`, `${field}.weight`, noDevice);
      }
      if (d.leafWeight) f.writeFirst(['blkio.leaf_weight_device'], `${dev} ${d.leafWeight}`, `${field}.leafWeight`, 'needs the CFQ I/O scheduler');
    });
    for (const [key, file] of THROTTLES)
      (b[key] as ThrottleDevice[] | undefined)?.forEach((d, i) => f.write(file, `${d.major}:${d.minor} ${d.rate}`, `blockIO.${key}[${i}]`, noDevice));
  },
  stats(f, s) {
    // CFQ's figures where the kernel keeps them, else BFQ's, else the throttle layer's (bytes and operations only).
    const pick = (name: string) => {
      for (const p of ['blkio.', 'blkio.bfq.']) {
        const e = parseBlkio(f.read(`${p}${name}_recursive`));
        if (e.length) return e;
      }
      return undefined;
    };
    const bytes = pick('io_service_bytes') ?? parseBlkio(f.read('blkio.throttle.io_service_bytes_recursive'));
    const ops = pick('io_serviced') ?? parseBlkio(f.read('blkio.throttle.io_serviced_recursive'));
    s.blkio = {
      ioServiceBytes: bytes,
      ioServiced: ops,
      ioQueued: pick('io_queued'),
      ioServiceTime: pick('io_service_time'),
      ioWaitTime: pick('io_wait_time'),
      ioMerged: pick('io_merged'),
      ioTime: pick('time'),
      sectors: pick('sectors'),
    };
  },
};
