// Liveness checks for `berth run`: a command in the container (through
// `berth exec`), a TCP connect or an HTTP GET. After `retries` failures in a
// row the container is unhealthy: the caller kills it, and --restart decides.
import { spawn } from 'node:child_process';
import { request } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';
import { packageDir } from '../../native.js';

export type HealthCheck = { kind: 'cmd'; command: string } | { kind: 'tcp'; port: number } | { kind: 'http'; port: number; path: string; host?: string };

export interface HealthOptions {
  check: HealthCheck;
  intervalMs: number;
  timeoutMs: number;
  retries: number;
}

/** What the check talks to: the berth state root and name (cmd), the address (tcp, http). */
export interface HealthTarget {
  root: string;
  name: string;
  /** The container's address: 127.0.0.1 on the host's network. */
  address: string;
}

/** One check; resolves with why it failed, or undefined if healthy. */
export function checkOnce(h: HealthOptions, t: HealthTarget): Promise<string | undefined> {
  const c = h.check;
  return new Promise((resolve) => {
    let done = false;
    const finish = (why?: string) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve(why);
    };
    const timer = setTimeout(() => {
      cleanup();
      finish(`no answer within ${h.timeoutMs} ms`);
    }, h.timeoutMs);
    let cleanup = () => {};
    if (c.kind === 'cmd') {
      const p = spawn(join(packageDir, 'bin', 'berth'), ['--root', t.root, 'exec', t.name, 'sh', '-c', c.command], { stdio: 'ignore' });
      cleanup = () => p.kill('SIGKILL');
      p.once('error', (e) => finish(e.message));
      p.once('exit', (code, sig) => finish(code === 0 ? undefined : `${JSON.stringify(c.command)} exited ${sig ?? code}`));
    } else if (c.kind === 'tcp') {
      const s = connect({ host: t.address, port: c.port });
      cleanup = () => s.destroy();
      s.once('connect', () => {
        s.destroy();
        finish();
      });
      s.once('error', (e) => finish(`tcp ${t.address}:${c.port}: ${(e as NodeJS.ErrnoException).code ?? e.message}`));
    } else {
      const host = c.host ?? t.address;
      const r = request({ host, port: c.port, path: c.path, method: 'GET', agent: false }, (res) => {
        res.resume();
        const ok = (res.statusCode ?? 0) >= 200 && (res.statusCode ?? 0) < 400;
        finish(ok ? undefined : `http://${host}:${c.port}${c.path}: ${res.statusCode}`);
      });
      cleanup = () => r.destroy();
      r.once('error', (e) => finish(`http://${host}:${c.port}${c.path}: ${(e as NodeJS.ErrnoException).code ?? e.message}`));
      r.end();
    }
  });
}

/** Checks every intervalMs; calls unhealthy(why) once after `retries` failures in a row. Returns stop(). */
export function watchHealth(h: HealthOptions, t: HealthTarget, unhealthy: (why: string) => void): () => void {
  let failures = 0;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const tick = async () => {
    const why = await checkOnce(h, t);
    if (stopped) return;
    failures = why === undefined ? 0 : failures + 1;
    if (why !== undefined && failures >= h.retries) return unhealthy(why);
    timer = setTimeout(tick, h.intervalMs);
  };
  timer = setTimeout(tick, h.intervalMs);
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
