// runc-style flags: `--name value`, `--name=value`, `-name`, booleans; flag
// parsing stops at the first positional argument (or `--`), like urfave/cli.

export type FlagType = 'bool' | 'string' | 'int' | 'list';
export type FlagDefs = Record<string, { readonly type: FlagType; readonly alias?: readonly string[] }>;
export type Flags = Record<string, string | boolean | number | string[] | undefined>;

export class UsageError extends Error {
  code = 'EINVAL';
}

export function parseArgs(argv: readonly string[], defs: FlagDefs): { flags: Flags; rest: string[] } {
  const names = new Map<string, string>();
  for (const [name, d] of Object.entries(defs)) for (const n of [name, ...(d.alias ?? [])]) names.set(n, name);
  const flags: Flags = {};
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      i++;
      break;
    }
    if (!a.startsWith('-') || a === '-') break;
    const [raw, inline] = a.replace(/^--?/, '').split(/=(.*)/s, 2) as [string, string | undefined];
    const name = names.get(raw);
    if (!name) throw new UsageError(`flag provided but not defined: -${raw}`);
    const def = defs[name]!;
    if (def.type === 'bool') {
      flags[name] = inline === undefined ? true : inline !== 'false';
      continue;
    }
    const value = inline ?? argv[++i];
    if (value === undefined) throw new UsageError(`flag needs an argument: --${raw}`);
    if (def.type === 'int') {
      if (!/^-?\d+$/.test(value)) throw new UsageError(`invalid value "${value}" for flag --${raw}: not an integer`);
      flags[name] = Number(value);
    } else if (def.type === 'list') {
      flags[name] = [...((flags[name] as string[] | undefined) ?? []), value];
    } else {
      flags[name] = value;
    }
  }
  return { flags, rest: argv.slice(i) };
}

export function needArgs(rest: string[], n: number, usage: string): void {
  if (rest.length < n) throw new UsageError(`${usage}: requires ${n === 1 ? 'a container id' : `${n} arguments`}`);
}
