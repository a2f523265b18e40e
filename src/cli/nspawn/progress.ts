// The import progress bar: one line, redrawn in place on a terminal.
import type { ImportProgress } from '../../images/import.js';

const mb = (n: number) => (n / 2 ** 20).toFixed(1);

/** The bar for a progress event, `width` columns wide at most (pure). */
export function progressLine(p: ImportProgress, width: number): string {
  const layer = `layer ${p.layer + 1}/${p.layers}`;
  if (p.skipped) return `${layer} already stored`.slice(0, width);
  const frac = p.total ? Math.min(1, p.bytes / p.total) : undefined;
  const tail = frac === undefined ? ` ${mb(p.bytes)} MB ${layer}` : ` ${String(Math.floor(frac * 100)).padStart(3)}% ${mb(p.bytes)}/${mb(p.total!)} MB ${layer}`;
  const barWidth = Math.max(0, Math.min(40, width - tail.length - 2));
  if (!barWidth) return tail.trim().slice(0, width);
  const filled = frac === undefined ? 0 : Math.round(frac * barWidth);
  const bar = '='.repeat(filled) + (filled < barWidth && frac !== undefined ? '>' : '') ;
  return `[${bar.padEnd(barWidth).slice(0, barWidth)}]${tail}`;
}

/** Draws on a TTY stream (at most ~10 times a second); nothing elsewhere. done() ends the line. */
export function progressBar(out: NodeJS.WriteStream): { update(p: ImportProgress): void; done(): void } {
  if (!out.isTTY) return { update() {}, done() {} };
  let last = 0;
  let drawn = false;
  return {
    update(p) {
      const now = Date.now();
      if (!p.done && !p.skipped && now - last < 100) return;
      last = now;
      drawn = true;
      out.write(`\r${progressLine(p, (out.columns || 80) - 1)}\x1b[K`);
    },
    done() {
      if (drawn) out.write('\n');
    },
  };
}
