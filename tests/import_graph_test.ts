/**
 * The server's cold path imports no tfjs and no `node:` module: walked over every import of
 * serve/main.ts as `deno info` resolves them, except the one deliberately deferred until after
 * listen (the PNG codec, image/png.ts, which needs node:zlib).
 */
import assert from "node:assert/strict";

interface Dependency {
  specifier: string;
  isDynamic?: boolean;
  code?: { specifier: string };
  type?: { specifier: string };
}

Deno.test("the server's static import graph holds no @tensorflow and no node: module", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", "serve/main.ts"],
    cwd: new URL("..", import.meta.url).pathname,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  const info = JSON.parse(new TextDecoder().decode(out.stdout));
  const modules = new Map<string, { dependencies?: Dependency[] }>(
    info.modules.map((m: { specifier: string }) => [m.specifier, m]),
  );
  const root = info.roots[0];
  const seen = new Set<string>([root]);
  const queue = [root];
  while (queue.length) {
    const deps = modules.get(queue.pop()!)?.dependencies ?? [];
    for (const dep of deps) {
      const target = dep.code?.specifier;
      // Deferred: the PNG codec, and the tfjs engine (loaded only for a model the Dense engine
      // cannot run).
      const deferred = dep.isDynamic &&
        (target?.endsWith("/image/png.ts") || target?.endsWith("/tfjs/layers_engine.ts"));
      if (!target || deferred || seen.has(target)) continue;
      seen.add(target);
      queue.push(target);
    }
  }
  const forbidden = [...seen].filter((s) => s.startsWith("node:") || s.includes("@tensorflow"));
  assert.deepEqual(forbidden, []);
  assert.ok([...seen].some((s) => s.endsWith("serve/app.ts")), "the walk reaches the app");
  // The walk is not vacuous: the dynamic PNG codec does pull in node:zlib.
  assert.ok(info.modules.some((m: { specifier: string }) => m.specifier === "node:zlib"));
});

/** Folders whose code runs without tfjs: the server's side and the code shared with it. */
const TFJS_FREE = ["format", "engine", "random", "datasets", "image", "cli", "serve"];

Deno.test("the tfjs-free folders import no tfjs and no module from the tfjs side", async () => {
  const root = new URL("..", import.meta.url).pathname;
  const problems: string[] = [];
  let files = 0;
  for (const folder of TFJS_FREE) {
    for await (const path of walkTs(`${root}${folder}`)) {
      files++;
      const source = await Deno.readTextFile(path);
      // Static imports and re-exports; `await import(...)` is deliberate deferral and allowed.
      for (const [, specifier] of source.matchAll(/^(?:import|export)[^;]*?from\s+"([^"]+)"/gms)) {
        const file = path.slice(root.length);
        if (specifier.startsWith("@tensorflow")) problems.push(`${file} imports ${specifier}`);
        if (!specifier.startsWith(".")) continue;
        const target = new URL(specifier, `file://${path}`).pathname.slice(root.length);
        if (!TFJS_FREE.includes(target.split("/")[0])) {
          problems.push(`${file} imports ${target}`);
        }
      }
    }
  }
  assert.ok(files > 20, `read ${files} files`);
  assert.deepEqual(problems, []);
});

async function* walkTs(dir: string): AsyncGenerator<string> {
  for await (const entry of Deno.readDir(dir)) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) yield* walkTs(path);
    else if (entry.name.endsWith(".ts")) yield path;
  }
}
