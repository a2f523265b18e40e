// The v1 ↔ v2 conversions, as tables: input, expected, and why.
import t from 'tap';
import {
  blkioWeightToIoWeight,
  cpuMax,
  hugetlbName,
  ioMaxLine,
  ioWeightToBlkioWeight,
  pageSizeBytes,
  parseList,
  rdmaLine,
  sharesToWeight,
  swapFromV2,
  swapToV2,
  ticksToNsec,
  usecToNsec,
  v1Limit,
  v2Limit,
  weightToShares,
} from '../../src/cgroups/convert.js';

t.test('cpu shares → cpu.weight (runc: 1 + (shares-2)*9999/262142)', async (t) => {
  const table: [number, number, string][] = [
    [0, 0, 'unset stays unset'],
    [2, 1, 'the minimum'],
    [1024, 39, "v1's default"],
    [512, 20, 'half'],
    [10000, 382, 'rounded down'],
    [262144, 10000, 'the maximum'],
  ];
  for (const [shares, weight, why] of table) t.equal(sharesToWeight(shares), weight, `${shares}: ${why}`);
  for (const w of [1, 2, 39, 100, 5000, 10000]) t.equal(sharesToWeight(weightToShares(w)), w, `weight ${w} survives a round trip`);
  t.equal(weightToShares(0), 0);
});

t.test('blkio weight → io.weight (runc: 1 + (w-10)*9999/990)', async (t) => {
  const table: [number, number, string][] = [
    [0, 0, 'unset stays unset'],
    [10, 1, 'the minimum'],
    [500, 4950, "v1's default"],
    [100, 910, ''],
    [1000, 10000, 'the maximum'],
  ];
  for (const [w, io, why] of table) t.equal(blkioWeightToIoWeight(w), io, `${w}: ${why}`);
  for (const w of [10, 11, 100, 500, 999, 1000]) t.equal(ioWeightToBlkioWeight(blkioWeightToIoWeight(w)), w, `${w} survives a round trip`);
});

t.test('memory swap: OCI counts memory+swap, memory.swap.max counts swap alone', async (t) => {
  const MB = 1 << 20;
  const table: [number, number, number, string][] = [
    // swap, limit → memory.swap.max
    [0, 0, 0, 'neither set: leave it'],
    [0, 64 * MB, 0, 'swap unset: leave it'],
    [0, -1, -1, 'unlimited memory, swap unset: unlimited swap too (as on v1)'],
    [-1, 64 * MB, -1, 'unlimited swap'],
    [128 * MB, 64 * MB, 64 * MB, 'memory+swap 128 MB with 64 MB memory: 64 MB swap'],
    [64 * MB, 64 * MB, 0, 'memory+swap = memory: no swap at all'],
  ];
  for (const [swap, limit, want, why] of table) t.equal(swapToV2(swap, limit), want, why);
  t.throws(() => swapToV2(32 * MB, 64 * MB), /at least memory.limit/, 'swap below the limit');
  t.throws(() => swapToV2(64 * MB, 0), /needs a memory limit/, 'swap without a memory limit');
  t.throws(() => swapToV2(64 * MB, -1), /needs a memory limit/, 'swap with unlimited memory');
  t.equal(swapFromV2(64 * MB, 64 * MB), 128 * MB, 'and back');
  t.equal(swapFromV2(-1, 64 * MB), -1);
});

t.test('-1 and 0', async (t) => {
  t.equal(v2Limit(-1), 'max');
  t.equal(v2Limit(1024), '1024');
  t.equal(v1Limit(-1), '-1');
  t.equal(v1Limit(-5), '-1', 'any negative is unlimited');
  const table: [number | undefined, number | undefined, string | undefined, string][] = [
    [undefined, undefined, undefined, 'neither: leave cpu.max alone'],
    [0, 0, undefined, 'zeros are unset'],
    [20000, undefined, '20000 100000', 'quota alone: the default period'],
    [20000, 50000, '20000 50000', 'both'],
    [-1, undefined, 'max 100000', 'quota -1 is unlimited'],
    [undefined, 50000, 'max 50000', 'period alone'],
  ];
  for (const [quota, period, want, why] of table) t.equal(cpuMax(quota, period), want, why);
});

t.test('units and file formats', async (t) => {
  t.equal(usecToNsec(1500), 1_500_000);
  t.equal(ticksToNsec(250), 2_500_000_000, 'USER_HZ 100');
  t.equal(pageSizeBytes('2MB'), 2 * 1024 * 1024);
  t.equal(pageSizeBytes('64KB'), 64 * 1024);
  t.equal(pageSizeBytes('1GB'), 1024 ** 3);
  t.ok(Number.isNaN(pageSizeBytes('2M')));
  t.equal(hugetlbName(2 * 1024 * 1024), '2MB');
  t.equal(hugetlbName(1024 ** 3), '1GB');
  t.equal(ioMaxLine('8:0', { rbps: 1048576 }), '8:0 rbps=1048576');
  t.equal(ioMaxLine('8:0', { wiops: 0 }), '8:0 wiops=max', 'a rate of 0 removes the limit');
  t.equal(rdmaLine('mlx4_0', { hcaHandles: 2, hcaObjects: 2000 }), 'mlx4_0 hca_handle=2 hca_object=2000');
  t.same(parseList('0-2,4'), [0, 1, 2, 4]);
  t.same(parseList(''), []);
});
