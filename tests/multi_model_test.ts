/** One server, several models: ?model=NAME, GET /models, per-model failures and the picker. */
import assert from "node:assert/strict";
import { initBackend } from "../tfjs/backend.ts";
import { loadRunner } from "../engine/runner.ts";
import { createApp, type ModelState } from "../serve/app.ts";
import { Sampler } from "../serve/sampler.ts";
import { decodePng } from "./png_decode.ts";
import { SCATTER_SIZE } from "../image/scatter.ts";
import { runDeno, startServer, taskArgs, tempDir, trainTinyModel } from "./helpers.ts";

await initBackend("wasm");
const dir = await tempDir("multi");
await trainTinyModel(`${dir}/digits`);
await trainTinyModel(`${dir}/cond`, { conditional: true });
await trainTinyModel(`${dir}/points`, { dataset: "grid25", latent: 2 });
const ready = async (name: string): Promise<ModelState> => ({
  ready: true,
  sampler: new Sampler(await loadRunner(`${dir}/${name}`)),
});
let condLoads = 0;
const app = createApp({
  defaultName: "digits",
  models: [
    { name: "digits", state: await ready("digits") },
    // Loaded on first use, as the server loads every model but the default after listening.
    { name: "cond", state: () => (condLoads++, ready("cond")) },
    { name: "broken", state: { ready: false, reason: "weights hash mismatch" } },
    { name: "points", state: await ready("points") },
  ],
});

Deno.test.afterAll(async () => {
  await Deno.remove(dir, { recursive: true });
});

Deno.test("?model= picks the model; without it the default answers", async () => {
  const plain = await (await app.request("/sample?n=2&seed=3")).json();
  assert.match(plain.model, /^digits@/);
  const cond = await app.request("/sample?model=cond&n=2&seed=3&label=7");
  assert.equal(cond.status, 200);
  const body = await cond.json();
  assert.match(body.model, /^cond@/);
  assert.deepEqual(body.labels, [7, 7]);
  assert.equal(condLoads, 1, "a lazily loaded model loads once");
  await app.request("/sample?model=cond&seed=4");
  assert.equal(condLoads, 1);
  const model = await (await app.request("/model?model=cond")).json();
  assert.deepEqual(model.labels, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.equal((await app.request("/interpolate?model=cond&from=1&to=2&steps=2")).status, 200);
});

Deno.test("ETags differ between models for the same request", async () => {
  const a = (await app.request("/sample?n=1&seed=5")).headers.get("ETag")!;
  const b = (await app.request("/sample?model=cond&n=1&seed=5")).headers.get("ETag")!;
  assert.match(a, /^"digits@/);
  assert.match(b, /^"cond@/);
  assert.notEqual(a, b);
});

Deno.test("an unknown model is a 400 naming the models; a failed one is a 503 while others serve", async () => {
  const unknown = await app.request("/sample?model=nope");
  assert.equal(unknown.status, 400);
  assert.deepEqual(await unknown.json(), {
    error: "invalid_parameter",
    detail: 'model: got "nope"; accepts one of digits, cond, broken, points (see /models)',
  });
  const broken = await app.request("/sample?model=broken");
  assert.equal(broken.status, 503);
  assert.deepEqual(await broken.json(), {
    error: "model_unavailable",
    detail: "model broken: weights hash mismatch",
  });
  assert.equal((await app.request("/sample?seed=1")).status, 200);
});

Deno.test("GET /models lists each model with its status; /healthz is 200 when the default is ready", async () => {
  await app.request("/model?model=cond");
  const list = await (await app.request("/models")).json();
  assert.equal(list.default, "digits");
  const byName = Object.fromEntries(list.models.map((m: { name: string }) => [m.name, m]));
  assert.equal(byName.digits.status, "ready");
  assert.equal(byName.digits.dataset, "mnist");
  assert.deepEqual(byName.digits.outputShape, [28, 28]);
  assert.equal(byName.digits.labels, undefined);
  assert.deepEqual(byName.cond.labels, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.equal(byName.cond.engine, "d2");
  assert.deepEqual(byName.broken, {
    name: "broken",
    status: "unavailable",
    reason: "weights hash mismatch",
  });
  const health = await app.request("/healthz");
  assert.equal(health.status, 200);
  const h = await health.json();
  assert.equal(h.status, "ok");
  assert.deepEqual(Object.keys(h.models), ["digits", "cond", "broken", "points"]);
  assert.equal(h.models.cond, "ready");
  assert.equal(h.models.broken, "unavailable");

  const failedDefault = createApp({
    defaultName: "broken",
    models: [{ name: "broken", state: { ready: false, reason: "no weights" } }],
  });
  assert.equal((await failedDefault.request("/healthz")).status, 503);
});

Deno.test("the page has a model picker; the digit picker shows only for a conditional model", async () => {
  const plain = await (await app.request("/?seed=4")).text();
  assert.match(plain, /<a class="model" href="\/\?seed=4&amp;model=cond">cond<\/a>/);
  assert.match(plain, /<a class="model" href="\/\?seed=4&amp;model=digits" aria-current="page">/);
  assert.doesNotMatch(plain, /class="digit"/);
  const cond = await (await app.request("/?seed=4&model=cond&label=2")).text();
  assert.match(cond, /class="digit" href="\/\?seed=4&amp;label=7&amp;model=cond"/);
  assert.match(
    cond,
    /id="grid" src="\/sample\?format=png&amp;n=16&amp;scale=4&amp;seed=4&amp;label=2&amp;model=cond"/,
  );
  assert.match(cond, /<input type="hidden" name="model" value="cond">/);
  // A 2-D model is on the picker, and its page shows a scatter plot of 256 points.
  assert.match(plain, /<a class="model" href="\/\?seed=4&amp;model=points">points<\/a>/);
  const points = await (await app.request("/?seed=4&model=points")).text();
  assert.match(
    points,
    /id="grid" src="\/sample\?format=png&amp;n=256&amp;seed=4&amp;model=points"/,
  );
  assert.doesNotMatch(points, /class="digit"|id="walk"/);
  const image = await app.request("/sample?format=png&n=256&seed=4&model=points");
  assert.equal(image.status, 200, "the page's image is served");
});

Deno.test("the default `deno task serve` serves every shipped generator: a seven from mnist-cond, grid25's points", async () => {
  const server = await startServer();
  try {
    const res = await fetch(`${server.base}/sample?model=mnist-cond&label=7&n=2&seed=1`);
    assert.equal(res.status, 200);
    const body = await res.json();
    assert.match(body.model, /^mnist-cond@/);
    assert.deepEqual(body.labels, [7, 7]);
    const list = await (await fetch(`${server.base}/models`)).json();
    assert.equal(list.default, "mnist");
    const names = list.models.map((m: { name: string }) => m.name);
    assert.ok(names.includes("mnist") && names.includes("mnist-cond"), names.join(","));
    assert.ok(!names.includes("classifier"), "the classifier is not a generator");
    // The 2-D generator: points as JSON, and a scatter plot as PNG.
    const points = await (await fetch(`${server.base}/sample?model=grid25&n=3&seed=1`)).json();
    assert.match(points.model, /^grid25@/);
    assert.deepEqual(points.shape, [2]);
    const png = await fetch(`${server.base}/sample?model=grid25&n=256&seed=1&format=png`);
    assert.equal(png.headers.get("Content-Type"), "image/png");
    assert.equal(decodePng(new Uint8Array(await png.arrayBuffer())).width, SCATTER_SIZE);
    // A model nobody asked for loads in the background after the first response, and /healthz
    // and /models say so.
    let health: { models: Record<string, string> } = { models: {} };
    for (let i = 0; i < 100 && health.models["mnist-seed"] !== "ready"; i++) {
      await new Promise((r) => setTimeout(r, 50));
      health = await (await fetch(`${server.base}/healthz`)).json();
    }
    assert.equal(health.models["mnist-seed"], "ready");
  } finally {
    await server.stop();
  }
});

Deno.test("`deno task serve` exits 2 with one line for a model name or folder that is not there, or a bad flag", async () => {
  const typo = await runDeno([...taskArgs("serve"), "--model", "models/typo"]);
  assert.equal(typo.code, 2);
  assert.equal(
    typo.stderr,
    "error: --model: models/typo holds no edgegan generator (no model.json of that format)\n",
  );
  const names = await runDeno([...taskArgs("serve"), "--models", "mnist,nope"]);
  assert.equal(names.code, 2);
  assert.match(
    names.stderr,
    /^error: --models: got "nope"; accepts generator folders under models\/: .*mnist/,
  );
  const def = await runDeno([...taskArgs("serve"), "--models", "mnist", "--default", "mnist-cond"]);
  assert.equal(def.code, 2);
  assert.match(
    def.stderr,
    /^error: --default: got "mnist-cond"; accepts one of the served models: mnist\n$/,
  );
  // The flag parser every task shares: an unknown flag, a missing value, a bad port.
  for (
    const [args, line] of <[string[], string][]> [
      [
        ["--bogus"],
        "error: --bogus: unknown flag; accepts --models, --default, --model, --port, --host\n",
      ],
      [
        ["--port"],
        "error: --port: needs a value; accepts TCP port 0..65535; also from PORT (default 8000)\n",
      ],
      [["--port", "-1"], 'error: --port: got "-1"; accepts an integer 0..65535\n'],
    ]
  ) {
    const bad = await runDeno([...taskArgs("serve"), ...args]);
    assert.equal(bad.code, 2, args.join(" "));
    assert.equal(bad.stderr, line);
  }
});

Deno.test("a 2-D model answers points as JSON, and as a PNG scatter plot over its mixture's modes", async () => {
  const json = await (await app.request("/sample?model=points&n=3&seed=8")).json();
  assert.deepEqual(json.shape, [2]);
  assert.equal(json.samples.length, 3);
  assert.ok(json.samples.every((p: number[]) => p.length === 2 && p.every(Number.isFinite)));
  for (const scale of [1, 2]) {
    const res = await app.request(`/sample?model=points&n=256&seed=8&format=png&scale=${scale}`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("Content-Type"), "image/png");
    const image = decodePng(new Uint8Array(await res.arrayBuffer()));
    assert.equal(image.width, SCATTER_SIZE * scale);
    assert.equal(image.height, SCATTER_SIZE * scale);
    const count = (rgb: number[]) => {
      let n = 0;
      for (let i = 0; i < image.data.length; i += 3) {
        if (rgb.every((v, c) => image.data[i + c] === v)) n++;
      }
      return n;
    };
    // 25 red crosses of 21 pixels (fewer where they overlap points), and the blue points.
    assert.ok(count([220, 30, 30]) > 25 * 15, "the grid's 25 modes are drawn");
    assert.ok(count([30, 80, 200]) > 100, "the points are drawn");
  }
});
