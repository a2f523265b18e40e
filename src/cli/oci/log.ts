// Errors the way runc reports them: the message on stderr and, with --log,
// one line in the log file (`{"level":"error","msg":...,"time":...}` with
// --log-format json; podman reads the file, containerd the last line).
import { appendFileSync } from 'node:fs';

export function logError(msg: string, logFile: string | undefined, format: string | undefined): void {
  const time = new Date().toISOString();
  if (logFile) {
    const line = format === 'json' ? JSON.stringify({ level: 'error', msg, time }) : `time="${time}" level=error msg=${JSON.stringify(msg)}`;
    try {
      appendFileSync(logFile, `${line}\n`);
    } catch {
      // the log is best effort; stderr still has it
    }
  }
  process.stderr.write(`${msg}\n`);
}
