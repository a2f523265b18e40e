// The container operations the verbs share: create (runc's exec-fifo model),
// start, kill, delete. State lives in the store; the container's process
// outlives this command and is adopted by the caller's subreaper.
import { closeSync, openSync, readFileSync, readSync, renameSync, unlinkSync, writeFileSync, constants as fsc } from 'node:fs';
import { resolve } from 'node:path';
import { native } from '../../native.js';
import { BerthError } from '../../runtime/errors.js';
import { hostFacts } from '../../runtime/host.js';
import { Launch } from '../../runtime/launch.js';
import { buildPlan } from '../../runtime/plan.js';
import { signalNumber } from '../../runtime/signals.js';
import { processStartTime, type StateRecord, type StateStore } from '../../runtime/state.js';
import { parseSpecJson } from '../../spec/validate.js';

export interface CreateArgs {
  id: string;
  bundle: string;
  consoleSocket?: string;
  pidFile?: string;
  preserveFds: number;
}

const ID = /^[A-Za-z0-9][A-Za-z0-9_.+-]{0,1023}$/;

/** Writes a pid file atomically, as conmon and the shim read it. */
export function writePidFile(path: string | undefined, pid: number): void {
  if (!path) return;
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, String(pid));
  renameSync(tmp, path);
}

export function loadSpec(bundle: string) {
  const file = resolve(bundle, 'config.json');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new BerthError(`cannot read ${file}: ${(e as Error).message}`, { code: (e as NodeJS.ErrnoException).code ?? 'EIO', step: 'read config.json', path: file });
  }
  return parseSpecJson(text, file);
}

/** create: the process is set up and waits on the exec fifo; this call returns. */
export async function createContainer(store: StateStore, a: CreateArgs): Promise<StateRecord> {
  if (!ID.test(a.id)) throw new BerthError(`invalid container id ${JSON.stringify(a.id)}`, { code: 'EINVAL', step: 'create' });
  const bundle = resolve(a.bundle);
  const spec = loadSpec(bundle);
  store.create(a.id);
  try {
    const fifo = store.fifo(a.id);
    native().mkfifo(fifo, 0o622);
    const plan = buildPlan({
      spec,
      bundle,
      host: hostFacts(),
      preserveFds: a.preserveFds,
      execFifo: fifo,
      consoleSocket: a.consoleSocket,
      detach: true,
    });
    const fds = [0, 1, 2, ...Array.from({ length: a.preserveFds }, (_, i) => 3 + i)];
    const launch = new Launch({ id: a.id, plan, fds });
    try {
      await launch.created();
    } finally {
      const ended = await launch.ended;
      if (ended.error) throw ended.error;
    }
    const rec: StateRecord = {
      id: a.id,
      pid: launch.pid,
      startTime: processStartTime(launch.pid) ?? '',
      bundle,
      rootfs: plan.rootfs,
      created: new Date().toISOString(),
      owner: '',
      annotations: spec.annotations ?? {},
      namespaces: (spec.linux?.namespaces ?? []).map((n) => n.type),
      spec,
    };
    store.write(rec);
    writePidFile(a.pidFile, rec.pid);
    return rec;
  } catch (e) {
    store.remove(a.id);
    throw e;
  }
}

const sleep = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/** start: opening the exec fifo releases the process to exec. */
export function startContainer(store: StateStore, rec: StateRecord): void {
  const status = store.status(rec);
  if (status !== 'created') throw new BerthError(`cannot start a container that is ${status}`, { code: 'EBUSY', step: 'start', containerId: rec.id });
  const fifo = store.fifo(rec.id);
  const fd = openSync(fifo, fsc.O_RDONLY | fsc.O_NONBLOCK);
  try {
    const buf = Buffer.alloc(1);
    for (;;) {
      try {
        if (readSync(fd, buf, 0, 1, null) === 1) break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
      }
      if (processStartTime(rec.pid) !== rec.startTime)
        throw new BerthError('the container process exited before start', { code: 'ESRCH', step: 'start', containerId: rec.id });
      sleep(1);
    }
  } finally {
    closeSync(fd);
  }
  unlinkSync(fifo);
}

/** A pidfd for the container's process, checked against its start time (pid reuse). */
export function openProcess(rec: StateRecord): number | undefined {
  if (!rec.pid) return undefined;
  let fd: number;
  try {
    fd = native().pidfdOpen(rec.pid);
  } catch {
    return undefined;
  }
  if (processStartTime(rec.pid) === rec.startTime) return fd;
  native().close(fd);
  return undefined;
}

export function killContainer(store: StateStore, rec: StateRecord, signal: string | number): void {
  const status = store.status(rec);
  if (status === 'stopped') throw new BerthError('container not running', { code: 'ESRCH', step: 'kill', containerId: rec.id });
  const fd = openProcess(rec);
  if (fd === undefined) throw new BerthError('container not running', { code: 'ESRCH', step: 'kill', containerId: rec.id });
  try {
    native().pidfdSendSignal(fd, signalNumber(signal));
  } finally {
    native().close(fd);
  }
}

/** Waits up to timeoutMs for the container's process to exit. */
export function waitGone(rec: StateRecord, timeoutMs: number): boolean {
  const fd = openProcess(rec);
  if (fd === undefined) return true;
  try {
    return native().pollIn(fd, timeoutMs);
  } finally {
    native().close(fd);
  }
}

export function deleteContainer(store: StateStore, rec: StateRecord, force: boolean): void {
  const status = store.status(rec);
  if (status === 'running' || status === 'paused') {
    if (!force) throw new BerthError(`cannot delete container ${rec.id} that is not stopped: ${status}`, { code: 'EBUSY', step: 'delete', containerId: rec.id });
  }
  if (status !== 'stopped') {
    const fd = openProcess(rec);
    if (fd !== undefined) {
      native().pidfdSendSignal(fd, 9);
      native().pollIn(fd, 10_000);
      native().close(fd);
    }
  }
  store.remove(rec.id);
}

