/**
 * Command-line flags for the offline tasks (train, eval, study, bench, import): node:util's
 * `parseArgs`, with one table per task that also gives `--help`, and every parse error turned
 * into one line naming the flag and what it accepts. The server parses its few flags by hand
 * (serve/main.ts): its cold path imports no `node:` module.
 *
 * ```ts
 * const flags = parseCli(Deno.args, "deno task study: ...", {
 *   jobs: { type: "string", default: "2", accepts: "an integer 1..8" },
 * });
 * ```
 */
import { parseArgs } from "node:util";

/** A bad command line; the task prints `error: message` as one line and exits 2. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** One flag: parseArgs' option config, plus what it accepts (for `--help` and errors). */
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

/**
 * The one-line reason for a `parseArgs` error; `acceptsOf` says what a named flag accepts.
 * `known` lists the flags for an unknown one (a long list is left to `--help`).
 */
export function describeParseError(
  err: Error,
  acceptsOf: (flag: string) => string | undefined,
  known: string[],
): string {
  const unknown = err.message.match(/Unknown option '([^']+)'/);
  if (unknown) {
    if (!known.length) return `${unknown[1]}: unknown flag; this task takes none but --help`;
    return known.length <= 12
      ? `${unknown[1]}: unknown flag; accepts ${known.map((f) => `--${f}`).join(", ")}`
      : `${unknown[1]}: unknown flag (see --help for the list)`;
  }
  const missing = err.message.match(/Option '(?:-\w, )?(--[\w-]+)[^']*' argument missing/);
  if (missing) {
    return `${missing[1]}: needs a value; accepts ${acceptsOf(missing[1].slice(2)) ?? "a value"}`;
  }
  const positional = err.message.match(/Unexpected argument '([^']+)'/);
  if (positional) {
    return `unexpected argument ${JSON.stringify(positional[1])}: flags take the form --name value`;
  }
  const boolValue = err.message.match(/Option '(?:-\w, )?(--[\w-]+)' does not take an argument/);
  if (boolValue) return `${boolValue[1]}: takes no value`;
  return err.message.split("\n")[0];
}

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

/** Parses `args` against `flags`; throws `UsageError` with one line on bad input. */
export function parseFlags<const T extends FlagTable>(args: string[], flags: T): FlagValues<T> {
  const options: Record<string, Omit<FlagSpec, "accepts">> = {};
  for (const [name, { accepts: _, ...option }] of Object.entries(flags)) options[name] = option;
  try {
    const { values } = parseArgs({ args, options, strict: true, allowPositionals: false });
    return { ...values } as FlagValues<T>;
  } catch (err) {
    throw new UsageError(
      describeParseError(err as Error, (f) => flags[f]?.accepts, Object.keys(flags)),
    );
  }
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
