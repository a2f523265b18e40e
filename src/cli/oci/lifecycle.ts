// The container operations the verbs share: create (runc's exec-fifo model),
// start, kill, delete. State lives in the store; the container's process
// outlives this command and is adopted by the caller's subreaper.
import { chmodSync, closeSync, openSync, readFileSync, readSync, renameSync, unlinkSync, writeFileSync, constants as fsc } from 'node:fs';
import { resolve } from 'node:path';
import { native } from '../../native.js';
import { BerthError } from '../../runtime/errors.js';
import { hostFacts } from '../../runtime/host.js';
import { Launch } from '../../runtime/launch.js';
import { hookState, runPoststop, runWarning } from '../../runtime/hooks.js';
import { buildPlan } from '../../runtime/plan.js';
import { signalNumber } from '../../runtime/signals.js';
import { processStartTime, type StateRecord, type StateStore } from '../../runtime/state.js';
import { parseSpecJson } from '../../spec/validate.js';
import { cgroupPlacement, openCgroup } from '../../cgroups/index.js';
import { containerCgroup } from './cgroup.js';
import { forwardReady, listenNotify, setupNotify } from './notify.js';
import { fdList, withListenFds } from './listen-fds.js';

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

/**
 * The common part of create and run: the state dir, the cgroup, the plan,
 * the process set up and waiting (create: on the exec fifo, the monitor gone;
 * run: on the sync socket, the monitor staying), and the state record.
 * On failure nothing is left: no state dir, no cgroup.
 */
export async function launchContainer(store: StateStore, a: CreateArgs, attached: boolean): Promise<{ rec: StateRecord; launch: Launch }> {
  if (!ID.test(a.id)) throw new BerthError(`invalid container id ${JSON.stringify(a.id)}`, { code: 'EINVAL', step: 'create' });
  const bundle = resolve(a.bundle);
  const activated = withListenFds(loadSpec(bundle), a.preserveFds);
  const passed = activated.fds;
  const cgroupPath = cgroupPlacement(activated.spec.linux?.cgroupsPath, a.id);
  store.create(a.id);
  const { spec, notify } = setupNotify(activated.spec, store.dir(a.id));
  const cgroup = openCgroup({ path: cgroupPath, resources: spec.linux?.resources, devices: spec.linux?.devices });
  try {
    const fifo = attached ? undefined : store.fifo(a.id);
    if (fifo) {
      native().mkfifo(fifo, 0o622);
      chmodSync(fifo, 0o622); // not cut by our umask: a user-namespace root must open it
    }
    await cgroup.create();
    const plan = buildPlan({
      id: a.id,
      spec,
      bundle,
      host: hostFacts(),
      preserveFds: passed,
      execFifo: fifo,
      consoleSocket: a.consoleSocket,
      detach: !attached,
      cgroup: true,
    });
    for (const w of plan.warnings) process.stderr.write(`warning: ${w}\n`);
    const launch = new Launch({ id: a.id, plan, fds: fdList(passed), cgroup });
    try {
      await launch.created();
    } catch (e) {
      await launch.ended;
      throw e;
    }
    if (!attached) {
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
      cgroupPath,
      notify,
      spec,
    };
    store.write(rec);
    writePidFile(a.pidFile, rec.pid);
    return { rec, launch };
  } catch (e) {
    await cgroup.destroy().catch(() => {});
    store.remove(a.id);
    throw e;
  }
}

/** create: the process is set up and waits on the exec fifo; this call returns. */
export async function createContainer(store: StateStore, a: CreateArgs): Promise<StateRecord> {
  return (await launchContainer(store, a, false)).rec;
}

const sleep = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/** start: opening the exec fifo releases the process to exec (with NOTIFY_SOCKET: returns after READY=1). */
export function startContainer(store: StateStore, rec: StateRecord): void {
  const status = store.status(rec);
  if (status !== 'created') throw new BerthError(`cannot start a container that is ${status}`, { code: 'EBUSY', step: 'start', containerId: rec.id });
  const notifyFd = rec.notify && listenNotify(rec.notify);
  releaseFifo(store, rec);
  if (rec.notify && notifyFd !== undefined) forwardReady(rec.notify, notifyFd, () => processStartTime(rec.pid) === rec.startTime);
}

function releaseFifo(store: StateStore, rec: StateRecord): void {
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

/** poststart hooks: after the process started, before `start` returns; a failure is a warning (OCI runtime spec). */
export async function poststart(rec: StateRecord): Promise<void> {
  for (const w of await runWarning(rec.spec.hooks, 'poststart', hookState(rec.spec, rec.id, rec.bundle, 'running', rec.pid)))
    process.stderr.write(`warning: ${w}\n`);
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

export async function deleteContainer(store: StateStore, rec: StateRecord, force: boolean): Promise<void> {
  const status = store.status(rec);
  // The runtime spec: deleting a container that is not stopped is an error
  // (runc and crun let a created one go; --force does here).
  if (status !== 'stopped' && !force)
    throw new BerthError(`cannot delete container ${rec.id} that is not stopped: ${status}`, { code: 'EBUSY', step: 'delete', containerId: rec.id });
  if (status !== 'stopped') {
    const fd = openProcess(rec);
    if (fd !== undefined) {
      native().pidfdSendSignal(fd, 9);
      native().pollIn(fd, 10_000);
      native().close(fd);
    }
  }
  if (rec.cgroupPath) await containerCgroup(rec).destroy();
  for (const w of await runPoststop(rec.spec.hooks, hookState(rec.spec, rec.id, rec.bundle, 'stopped', 0))) process.stderr.write(`warning: ${w}\n`);
  store.remove(rec.id);
}

