/**
 * The `deno` arguments of a task in deno.json (permissions, V8 flags, entry point), so
 * benchmarks, the study and tests run exactly what `deno task <name>` runs.
 *
 * ```ts
 * const args = taskArgs("serve"); // ["run", "--allow-net", ..., "serve/main.ts"]
 * ```
 */
let tasks: Record<string, string> | undefined;

export function taskArgs(name: string): string[] {
  tasks ??= JSON.parse(Deno.readTextFileSync(new URL("../deno.json", import.meta.url))).tasks;
  const [deno, ...args] = (tasks![name] ?? "").split(" ");
  if (deno !== "deno") throw new Error(`task ${name} does not start with deno`);
  return args;
}
