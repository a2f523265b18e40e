// Pure conversions between the OCI resource values (cgroup v1's units) and
// the files of cgroup v1 and v2. No I/O. The formulas are runc's, so a
// container gets the same kernel values under berth as under runc.
//
// Meanings shared by both versions: 0 (or unset) leaves the kernel's value
// alone; -1 is "unlimited" ("max" in v2, -1 in v1 files).

/** A v2 limit file's value: -1 (or any negative) → "max". */
export const v2Limit = (v: number): string => (v < 0 ? 'max' : String(v));

/** v1 files take -1 for unlimited. */
export const v1Limit = (v: number): string => (v < 0 ? '-1' : String(v));

/**
 * cpu.shares (2..262144, default 1024) → cpu.weight (1..10000, default 100).
 * 0 stays 0 (unset).
 */
export function sharesToWeight(shares: number): number {
  if (shares === 0) return 0;
  return 1 + Math.floor(((shares - 2) * 9999) / 262142);
}

/** cpu.weight → the smallest cpu.shares that sharesToWeight maps back to it. */
export function weightToShares(weight: number): number {
  if (weight === 0) return 0;
  return 2 + Math.ceil(((weight - 1) * 262142) / 9999);
}

/** blkio.weight (10..1000) → io.weight (1..10000). 0 stays 0 (unset). */
export function blkioWeightToIoWeight(weight: number): number {
  if (weight === 0) return 0;
  return 1 + Math.floor(((weight - 10) * 9999) / 990);
}

/** io.weight → blkio.weight; undoes blkioWeightToIoWeight. */
export function ioWeightToBlkioWeight(weight: number): number {
  if (weight === 0) return 0;
  return 10 + Math.ceil(((weight - 1) * 990) / 9999);
}

/**
 * OCI memory.swap is memory+swap (v1's memsw); v2's memory.swap.max is swap
 * alone. Returns the memory.swap.max value: -1 max, 0 unset, else bytes.
 * Throws a plain Error (the caller names the field) when the pair is impossible.
 */
export function swapToV2(swap: number, limit: number): number {
  // As on v1: unlimited memory with swap unset makes swap unlimited too.
  if (limit === -1 && swap === 0) return -1;
  if (swap === -1 || swap === 0) return swap;
  if (limit === 0 || limit === -1) throw new Error('a swap limit needs a memory limit');
  if (swap < limit) throw new Error(`must be at least memory.limit (${limit}): it counts memory plus swap`);
  return swap - limit;
}

/** memory.swap.max (swap alone) back to OCI's memory+swap; -1 stays -1. */
export function swapFromV2(swapMax: number, limit: number): number {
  if (swapMax < 0 || limit < 0) return -1;
  return swapMax + limit;
}

/**
 * cpu.max from OCI quota and period: "max 100000" when quota is -1 (or
 * unset but a period is given); undefined when neither is set.
 */
export function cpuMax(quota = 0, period = 0): string | undefined {
  if (quota === 0 && period === 0) return undefined;
  return `${quota > 0 ? quota : 'max'} ${period || 100000}`;
}

/** v2 reports microseconds, v1 and OCI nanoseconds. */
export const usecToNsec = (us: number): number => us * 1000;

/** cpuacct.stat counts USER_HZ ticks (100 a second on every Linux architecture berth runs on). */
export const ticksToNsec = (ticks: number, hz = 100): number => Math.round((ticks * 1e9) / hz);

/** "2MB" (OCI pageSize) → bytes. */
export function pageSizeBytes(size: string): number {
  const m = /^([0-9]+)([KMGTPE]?)B$/.exec(size);
  if (!m) return NaN;
  return Number(m[1]) * 1024 ** ' KMGTPE'.indexOf(m[2] || ' ');
}

/** The kernel's hugetlb file name part for a page size in bytes: 2097152 → "2MB". */
export function hugetlbName(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB', 'PB'];
  let i = 0;
  while (bytes >= 1024 && bytes % 1024 === 0 && i < units.length - 1) {
    bytes /= 1024;
    i++;
  }
  return `${bytes}${units[i]}`;
}

/** io.max line: "8:0 rbps=1048576 wiops=max". Rates of 0 are "max" (no limit). */
export function ioMaxLine(
  dev: string,
  limits: { rbps?: number; wbps?: number; riops?: number; wiops?: number },
): string {
  const parts = Object.entries(limits)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${v ? v : 'max'}`);
  return `${dev} ${parts.join(' ')}`;
}

/** rdma.max line: "mlx4_0 hca_handle=2 hca_object=max". */
export function rdmaLine(dev: string, l: { hcaHandles?: number; hcaObjects?: number }): string {
  const parts: string[] = [];
  if (l.hcaHandles !== undefined) parts.push(`hca_handle=${l.hcaHandles}`);
  if (l.hcaObjects !== undefined) parts.push(`hca_object=${l.hcaObjects}`);
  return `${dev} ${parts.join(' ')}`;
}

/** "0-2,4" → [0, 1, 2, 4] (cpuset lists). */
export function parseList(s: string): number[] {
  const out: number[] = [];
  for (const part of s.trim().split(',')) {
    if (!part) continue;
    const [a, b] = part.split('-').map(Number);
    for (let i = a!; i <= (b ?? a!); i++) out.push(i);
  }
  return out;
}
