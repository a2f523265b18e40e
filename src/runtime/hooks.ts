// OCI hooks. createRuntime and prestart run here in Node (the runtime
// namespace) while the container process waits at `sync hooks`;
// createContainer and startContainer run in the container process itself
// (`hook` ops), since at startContainer time nobody else may be there;
// poststart and poststop run here after start and delete.
import { spawn } from 'node:child_process';
import type { Hook, Hooks, Spec } from '../spec/types.js';
import { BerthError } from './errors.js';
import type { Op } from './protocol.js';

export interface HookState {
  ociVersion: string;
  id: string;
  status: string;
  pid: number;
  bundle: string;
  annotations: Record<string, string>;
}

export function hookState(spec: Spec, id: string, bundle: string, status: string, pid: number): HookState {
  return { ociVersion: spec.ociVersion, id, status, pid, bundle, annotations: spec.annotations ?? {} };
}

/** Ops that run `name`'s hooks in the container process (the state's pid is filled in there). */
export function hookOps(hooks: Hooks | undefined, name: 'createContainer' | 'startContainer', state: Omit<HookState, 'pid'>): Op[] {
  const prefix = JSON.stringify({ ...state }).replace(/}$/, ',"pid":');
  return (hooks?.[name] ?? []).map((h) => ({
    op: 'hook',
    step: `${name} hook ${h.path}`,
    path: h.path,
    args: h.args ?? [],
    env: h.env ?? [],
    timeout: h.timeout ?? 0,
    statePrefix: prefix,
    stateSuffix: '}',
  }));
}

function runOne(h: Hook, name: string, state: HookState): Promise<void> {
  return new Promise((resolve, reject) => {
    const [argv0, ...rest] = h.args?.length ? h.args : [h.path];
    const child = spawn(h.path, rest, { argv0, env: Object.fromEntries((h.env ?? []).map((e) => e.split(/=(.*)/s, 2) as [string, string])), stdio: ['pipe', 'inherit', 'inherit'] });
    const timer = h.timeout ? setTimeout(() => child.kill('SIGKILL'), h.timeout * 1000) : undefined;
    const fail = (detail: string, code = 'ECANCELED') =>
      reject(new BerthError(`${name} hook ${h.path} failed: ${detail}`, { code, step: `${name} hook`, path: h.path, containerId: state.id }));
    child.on('error', (e: NodeJS.ErrnoException) => fail(e.message, e.code));
    child.stdin.on('error', () => {}); // a hook that does not read its stdin
    child.stdin.end(JSON.stringify(state));
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else if (signal === 'SIGKILL' && timer) fail(`timed out after ${h.timeout}s`, 'ETIMEDOUT');
      else fail(code !== null ? `exit status ${code}` : `killed by ${signal}`);
    });
  });
}

/** Runs the hooks of `names`, in order; the first failure rejects. */
export async function runHooks(hooks: Hooks | undefined, names: (keyof Hooks)[], state: HookState): Promise<void> {
  for (const name of names) for (const h of hooks?.[name] ?? []) await runOne(h, name, state);
}

/** poststart and poststop: failures are warnings (the spec says so), returned for the caller to report. */
export async function runWarning(hooks: Hooks | undefined, name: 'poststart' | 'poststop', state: HookState): Promise<string[]> {
  const warnings: string[] = [];
  for (const h of hooks?.[name] ?? []) await runOne(h, name, state).catch((e: Error) => warnings.push(e.message));
  return warnings;
}

export const runPoststop = (hooks: Hooks | undefined, state: HookState) => runWarning(hooks, 'poststop', state);
