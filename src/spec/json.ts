// JSON.parse with the place of a syntax error as line and column. V8's
// messages only sometimes give an offset, so on error the text is scanned
// again by a small JSON grammar checker to find where it goes wrong.

import { SpecError } from './errors.js';
import { ROOT } from './check.js';

/** Parse JSON text (a leading byte-order mark is skipped). Throws a SpecError for `(root)`. */
export function parseJson(text: string, source?: string): unknown {
  const body = text.startsWith('\uFEFF') ? text.slice(1) : text;
  try {
    return JSON.parse(body);
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    const where = source === undefined ? '' : ` in ${source}`;
    const offset = jsonErrorOffset(body);
    const at = offset < 0 ? '' : ` (${lineColumn(body, offset)})`;
    throw new SpecError(ROOT, `invalid JSON${where}: ${msg}${at}`);
  }
}

function lineColumn(text: string, offset: number): string {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  const column = offset - (before.lastIndexOf('\n') + 1) + 1;
  return `line ${line}, column ${column}`;
}

const HEX = /^[0-9a-fA-F]$/;

function isDigit(c: string | undefined): boolean {
  return c !== undefined && c >= '0' && c <= '9';
}

/** Offset of the first character where `text` stops being JSON; -1 if it is JSON. */
export function jsonErrorOffset(text: string): number {
  let i = 0;
  const stop = (): never => {
    throw i;
  };
  const ws = (): void => {
    while (i < text.length && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r')) i++;
  };
  const str = (): void => {
    i++; // opening quote
    for (;;) {
      if (i >= text.length) stop();
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        i++;
        return;
      }
      if (c < 0x20) stop();
      if (c !== 0x5c) {
        i++;
        continue;
      }
      i++; // backslash
      const e = text[i];
      if (e === 'u') {
        for (let k = 1; k <= 4; k++) {
          if (!HEX.test(text[i + k] ?? '')) {
            i += k;
            stop();
          }
        }
        i += 5;
      } else if (e !== undefined && '"\\/bfnrt'.includes(e)) {
        i++;
      } else {
        stop();
      }
    }
  };
  const digits = (): void => {
    if (!isDigit(text[i])) stop();
    while (isDigit(text[i])) i++;
  };
  const num = (): void => {
    if (text[i] === '-') i++;
    if (text[i] === '0') i++;
    else digits();
    if (text[i] === '.') {
      i++;
      digits();
    }
    if (text[i] === 'e' || text[i] === 'E') {
      i++;
      if (text[i] === '+' || text[i] === '-') i++;
      digits();
    }
  };
  const value = (): void => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      ws();
      if (text[i] === '}') {
        i++;
        return;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') stop();
        str();
        ws();
        if (text[i] !== ':') stop();
        i++;
        value();
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') {
          i++;
          return;
        }
        stop();
      }
    }
    if (c === '[') {
      i++;
      ws();
      if (text[i] === ']') {
        i++;
        return;
      }
      for (;;) {
        value();
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') {
          i++;
          return;
        }
        stop();
      }
    }
    if (c === '"') return str();
    if (c === '-' || isDigit(c)) return num();
    const lit = c === 't' ? 'true' : c === 'f' ? 'false' : c === 'n' ? 'null' : '';
    if (lit === '') stop();
    for (let k = 0; k < lit.length; k++, i++) if (text[i] !== lit[k]) stop();
  };
  try {
    value();
    ws();
    if (i < text.length) stop();
    return -1;
  } catch (e) {
    return typeof e === 'number' ? e : -1;
  }
}
