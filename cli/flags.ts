/**
 * Command-line flags for every task (serve, train, eval, study, bench, import): one table per
 * task that also gives `--help`, and every parse error as one line naming the flag and what it
 * accepts. Parsed here rather than by node:util's `parseArgs`, whose import alone costs the
 * server's cold start ~30 ms, and whose errors would have to be re-worded from its messages.
 *
 * ```ts
 * const flags = parseCli(Deno.args, "deno task study: ...", {
 *   jobs: { type: "string", default: "2", accepts: "an integer 1..8" },
 * });
 * ```
 */
/** A bad command line; the task prints `error: message` as one line and exits 2. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** One flag: its type, default, and what it accepts (for `--help` and errors). */
export interface FlagSpec {
  type: "string" | "boolean";
  default?: string | boolean;
  multiple?: boolean;
  short?: string;
  accepts: string;
}
export type FlagTable = Record<string, FlagSpec>;

type ValueOf<F extends FlagSpec> = F["type"] extends "boolean"
  ? (F["multiple"] extends true ? boolean[] : boolean)
  : (F["multiple"] extends true ? string[] : string);
/** The parsed values: a flag with a default is always set, one without may be undefined. */
export type FlagValues<T extends FlagTable> = {
  [K in keyof T]: T[K]["default"] extends string | boolean ? ValueOf<T[K]>
    : ValueOf<T[K]> | undefined;
};

/** `--help` text: the task's summary, then one line per flag with what it accepts. */
export function flagHelp(about: string, flags: FlagTable): string {
  const names = Object.keys(flags).map((name) =>
    flags[name].type === "boolean" ? `--${name}` : `--${name} VALUE`
  );
  const width = Math.max("--help".length, ...names.map((n) => n.length)) + 2;
  const lines = Object.entries(flags).map(([, spec], i) => {
    const dflt = spec.default !== undefined && spec.default !== false && spec.default !== ""
      ? ` (default ${spec.default})`
      : "";
    return `  ${names[i].padEnd(width)}${spec.accepts}${dflt}`;
  });
  return `${about}\n\nFlags:\n${lines.join("\n")}\n  ${"--help".padEnd(width)}this text`;
}

/**
 * Parses `args` against `flags` ("--name value", "--name=value", a boolean as "--name"; a
 * value may start with "-", as a negative number does, but not with "--"); throws `UsageError`
 * with one line naming the flag and what it accepts.
 */
export function parseFlags<const T extends FlagTable>(args: string[], flags: T): FlagValues<T> {
  const values: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(flags)) {
    if (spec.default !== undefined) values[name] = spec.default;
  }
  const given = new Set<string>();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    const [, long, inline] = /^--([\w-]+)(?:=(.*))?$/s.exec(arg) ?? [];
    const short = /^-(\w)$/.exec(arg)?.[1];
    const name = long ?? Object.keys(flags).find((n) => short && flags[n].short === short);
    if (name === undefined || !Object.hasOwn(flags, name)) {
      if (!long && !short) {
        throw new UsageError(
          `unexpected argument ${JSON.stringify(arg)}: flags take the form --name value`,
        );
      }
      throw new UsageError(unknownFlag(arg.split("=")[0], Object.keys(flags)));
    }
    const spec = flags[name];
    let value: string | boolean = true;
    if (spec.type === "boolean") {
      if (inline !== undefined) throw new UsageError(`--${name}: takes no value`);
    } else {
      value = inline ?? args[i + 1];
      if (inline === undefined) i++;
      if (value === undefined || (inline === undefined && value.startsWith("--"))) {
        throw new UsageError(`--${name}: needs a value; accepts ${spec.accepts}`);
      }
    }
    if (spec.multiple) {
      values[name] = given.has(name) ? [...values[name] as unknown[], value] : [value];
    } else {
      values[name] = value;
    }
    given.add(name);
  }
  return values as FlagValues<T>;
}

/** The line for an unknown flag; a long list of the known ones is left to `--help`. */
function unknownFlag(flag: string, known: string[]): string {
  if (!known.length) return `${flag}: unknown flag; this task takes none but --help`;
  return known.length <= 12
    ? `${flag}: unknown flag; accepts ${known.map((f) => `--${f}`).join(", ")}`
    : `${flag}: unknown flag (see --help for the list)`;
}

/** Prints `error: message` as one line and exits 2: a bad command line. */
export function exitUsage(message: string): never {
  console.error(`error: ${message}`);
  Deno.exit(2);
}

/**
 * For a task's entry point: `--help` prints the flags and exits 0; bad input prints one line and
 * exits 2; otherwise the parsed values.
 */
export function parseCli<const T extends FlagTable>(
  args: string[],
  about: string,
  flags: T,
): FlagValues<T> {
  if (args.includes("--help") || args.includes("-h")) {
    console.log(flagHelp(about, flags));
    Deno.exit(0);
  }
  try {
    return parseFlags(args, flags);
  } catch (err) {
    if (err instanceof UsageError) exitUsage(err.message);
    throw err;
  }
}
