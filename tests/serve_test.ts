import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { initBackend } from "../tfjs/backend.ts";
import { loadGenerator as loadTfjsRunner } from "../tfjs/generator_files.ts";
import { ModelLoadError } from "../format/model_files.ts";
import { loadRunner } from "../engine/runner.ts";
import { toPixels } from "../image/png.ts";
import { decodePng } from "./png_decode.ts";
import { latentBatch } from "../random/seeded.ts";
import { createApp } from "../serve/app.ts";
import { ResponseCache } from "../serve/response_cache.ts";
import { JSON_TYPE, Prepared } from "../serve/headers.ts";
import { Sampler } from "../serve/sampler.ts";
import { SAMPLE_LIMITS } from "../serve/params.ts";
import { startServer, taskArgs, trainTinyModel } from "./helpers.ts";

await initBackend("wasm");

const ROOT = new URL("..", import.meta.url).pathname;
// A small trained fixture, under models/ so the server's --allow-read=. reaches it.
const FIXTURE = `models/test-tmp-serve-${crypto.randomUUID().slice(0, 8)}`;
await trainTinyModel(`${ROOT}/${FIXTURE}`);
const loaded = await loadRunner(`${ROOT}/${FIXTURE}`);
const sampler = new Sampler(loaded);
const app = createApp({ ready: true, sampler });
const SHA12 = loaded.metadata.weightsSha256.slice(0, 12);
const ID = `${FIXTURE.split("/")[1]}@${SHA12}`;

Deno.test.afterAll(async () => {
  await Deno.remove(`${ROOT}/${FIXTURE}`, { recursive: true });
});

async function json(res: Response) {
  return JSON.parse(await res.text());
}

Deno.test("GET /sample returns JSON samples as 0..255 integers with the model id, seed and shape", async () => {
  const res = await app.request("/sample?n=3&seed=42");
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("Content-Type"), "application/json");
  assert.equal(res.headers.get("X-Seed"), "42");
  const body = await json(res);
  assert.equal(body.model, `${FIXTURE.split("/")[1]}@${SHA12}`);
  assert.equal(body.seed, 42);
  assert.equal(body.n, 3);
  assert.deepEqual(body.shape, [28, 28]);
  assert.equal(body.encoding, "uint8");
  assert.deepEqual(body.range, [0, 255]);
  assert.equal(body.samples.length, 3);
  for (const s of body.samples) {
    assert.equal(s.length, 784);
    assert.ok(s.every((v: number) => Number.isInteger(v) && v >= 0 && v <= 255));
  }
});

Deno.test("GET /sample defaults to n=1 and draws a seed, echoed in the body and X-Seed, not cacheable", async () => {
  const res = await app.request("/sample");
  const body = await json(res);
  assert.equal(body.n, 1);
  assert.equal(res.headers.get("X-Seed"), String(body.seed));
  assert.ok(Number.isInteger(body.seed) && body.seed >= 0 && body.seed <= 0xffffffff);
  assert.equal(res.headers.get("Cache-Control"), "no-store");
  assert.equal(res.headers.get("ETag"), null);
  const other = await json(await app.request("/sample"));
  assert.notEqual(other.seed, body.seed);
});

Deno.test("the same seed and n give byte-identical bodies, and n=4 is a prefix of n=8", async () => {
  const a = await (await app.request("/sample?n=8&seed=7")).text();
  const b = await (await app.request("/sample?n=8&seed=7")).text();
  assert.equal(a, b);
  const four = JSON.parse(await (await app.request("/sample?n=4&seed=7")).text());
  assert.deepEqual(four.samples, JSON.parse(a).samples.slice(0, 4));
  const pngA = new Uint8Array(
    await (await app.request("/sample?n=5&seed=7&format=png")).arrayBuffer(),
  );
  const pngB = new Uint8Array(
    await (await app.request("/sample?n=5&seed=7&format=png")).arrayBuffer(),
  );
  assert.deepEqual(pngA, pngB);
});

Deno.test("served samples equal tfjs predict on the same latent batch (dropout off)", async () => {
  const body = await json(await app.request("/sample?n=6&seed=99"));
  const tfjs = await loadTfjsRunner(`${ROOT}/${FIXTURE}`);
  const expected = tf.tidy(() => {
    const z = tf.tensor2d(latentBatch(99, 6, 16), [6, 16]);
    return toPixels((tfjs.model.predict(z) as tf.Tensor).dataSync() as Float32Array);
  });
  // The server's engine and tfjs agree to float rounding: a pixel may differ by one level
  // where a value sits on a rounding boundary.
  const served = body.samples.flat() as number[];
  assert.equal(served.length, expected.length);
  assert.ok(served.every((v, i) => Math.abs(v - expected[i]) <= 1));
  assert.ok(served.filter((v, i) => v !== expected[i]).length <= 2);
  // With dropout on, the same latent batch gives something else.
  const trained = tf.tidy(() => {
    const z = tf.tensor2d(latentBatch(99, 6, 16), [6, 16]);
    return toPixels(
      (tfjs.model.apply(z, { training: true }) as tf.Tensor).dataSync() as Float32Array,
    );
  });
  assert.notDeepEqual(Array.from(trained), Array.from(expected));
  tfjs.model.dispose();
});

Deno.test("an explicit seed is cacheable forever with an ETag, and If-None-Match gives 304", async () => {
  const res = await app.request("/sample?n=2&seed=5");
  const etag = res.headers.get("ETag")!;
  assert.equal(etag, `"${ID}-d2-sample-json-2-5"`);
  assert.equal(res.headers.get("Cache-Control"), "public, max-age=31536000, immutable");
  for (const header of [etag, `W/${etag}`, `"x", ${etag}`, "*"]) {
    const again = await app.request("/sample?n=2&seed=5", { headers: { "If-None-Match": header } });
    assert.equal(again.status, 304, header);
    assert.equal(await again.text(), "");
    assert.equal(again.headers.get("ETag"), etag);
  }
  const other = await app.request("/sample?n=3&seed=5", { headers: { "If-None-Match": etag } });
  assert.equal(other.status, 200);
  const png = await app.request("/sample?n=2&seed=5&format=png&scale=2");
  assert.equal(png.headers.get("ETag"), `"${ID}-d2-sample-png-2-5-2"`);
});

Deno.test("format=png and Accept: image/png return a PNG grid of ceil(sqrt(n)) columns at the given scale", async () => {
  const res = await app.request("/sample?n=5&seed=3&format=png&scale=2");
  assert.equal(res.headers.get("Content-Type"), "image/png");
  const image = decodePng(new Uint8Array(await res.arrayBuffer()));
  assert.equal(image.channels, 1);
  assert.equal(image.width, 3 * 28 * 2);
  assert.equal(image.height, 2 * 28 * 2);
  const body = await json(await app.request("/sample?n=5&seed=3"));
  // Sample 4 sits at row 1, column 1; each of its pixels is a 2x2 block.
  for (const [y, x] of [[0, 0], [13, 14], [27, 27], [5, 20]]) {
    const px = image.data[(28 * 2 + y * 2 + 1) * image.width + 28 * 2 + x * 2 + 1];
    assert.equal(px, body.samples[4][y * 28 + x]);
  }
  // The empty sixth cell is black.
  assert.equal(image.data[(28 * 2 + 10) * image.width + 2 * 28 * 2 + 10], 0);

  const negotiated = await app.request("/sample?seed=3", { headers: { Accept: "image/png" } });
  assert.equal(negotiated.headers.get("Content-Type"), "image/png");
  assert.equal(negotiated.headers.get("Vary"), "Accept");
  const preferJson = await app.request("/sample?seed=3", {
    headers: { Accept: "application/json, image/png;q=0.5" },
  });
  assert.match(preferJson.headers.get("Content-Type")!, /json/);
  const explicit = await app.request("/sample?seed=3&format=json", {
    headers: { Accept: "image/png" },
  });
  assert.match(explicit.headers.get("Content-Type")!, /json/);
});

Deno.test("invalid parameters give 400 JSON naming the parameter and what it accepts", async () => {
  const cases: [string, string, RegExp][] = [
    ["/sample?n=0", "invalid_parameter", /^n: got "0"; accepts an integer 1\.\.256$/],
    ["/sample?n=257", "invalid_parameter", /^n: got "257"; accepts an integer 1\.\.256$/],
    ["/sample?n=abc", "invalid_parameter", /^n: got "abc"/],
    ["/sample?n=1.5", "invalid_parameter", /^n: got "1\.5"/],
    ["/sample?n=-1", "invalid_parameter", /^n: got "-1"/],
    ["/sample?n=", "invalid_parameter", /^n: got ""/],
    ["/sample?n=1e2", "invalid_parameter", /^n: got "1e2"/],
    [
      "/sample?seed=4294967296",
      "invalid_parameter",
      /^seed: got "4294967296"; accepts an integer 0\.\.4294967295$/,
    ],
    ["/sample?seed=NaN", "invalid_parameter", /^seed: got "NaN"/],
    ["/sample?format=gif", "invalid_parameter", /^format: got "gif"; accepts one of json, png$/],
    [
      "/sample?scale=9&format=png",
      "invalid_parameter",
      /^scale: got "9"; accepts an integer 1\.\.8$/,
    ],
    ["/sample?n=1&n=2", "invalid_parameter", /^n: given more than once/],
    [
      "/sample?sead=1",
      "unknown_parameter",
      /^unknown query parameter "sead"; this route accepts n, seed, format, scale, label, model$/,
    ],
    ["/healthz?x=1", "unknown_parameter", /this route takes no parameters/],
    ["/?seed=-5", "invalid_parameter", /^seed: got "-5"/],
    [`/sample?n=${"1".repeat(3000)}`, "query_too_long", /at most 2048/],
  ];
  for (const [path, code, detail] of cases) {
    const res = await app.request(path);
    assert.equal(res.status, 400, path);
    const body = await json(res);
    assert.equal(body.error, code, path);
    assert.match(body.detail, detail, path);
  }
});

Deno.test("unknown routes give 404 JSON and wrong methods 405 with Allow", async () => {
  const missing = await app.request("/samples");
  assert.equal(missing.status, 404);
  assert.equal((await json(missing)).error, "not_found");
  for (const method of ["POST", "PUT", "DELETE", "PATCH"]) {
    const res = await app.request("/sample", { method });
    assert.equal(res.status, 405, method);
    assert.equal(res.headers.get("Allow"), "GET, HEAD");
    assert.equal((await json(res)).error, "method_not_allowed");
  }
  const head = await app.request("/sample?seed=1", { method: "HEAD" });
  assert.equal(head.status, 200);
  assert.equal(head.headers.get("X-Seed"), "1");
  assert.equal(await head.text(), "");
});

Deno.test("GET /healthz, /model and /openapi.json describe the model and the API", async () => {
  const health = await app.request("/healthz");
  assert.equal(health.status, 200);
  const healthBody = await json(health);
  assert.deepEqual(healthBody, { status: "ok", models: { [sampler.id.split("@")[0]]: "ready" } });

  const model = await json(await app.request("/model"));
  assert.equal(model.id, sampler.id);
  assert.equal(model.dataset, "mnist");
  assert.deepEqual(model.outputShape, [28, 28]);
  assert.equal(model.latent.size, 16);
  assert.deepEqual(model.dropout, { generator: 0.5, discriminator: 0.5 });
  assert.equal(model.steps, 20);
  assert.equal(model.weightsSha256, loaded.metadata.weightsSha256);
  assert.equal(model.golden.values, undefined, "golden values stay out of the public metadata");

  const doc = await json(await app.request("/openapi.json"));
  assert.equal(doc.openapi, "3.0.3");
  assert.deepEqual(Object.keys(doc.paths).sort(), [
    "/",
    "/healthz",
    "/interpolate",
    "/model",
    "/models",
    "/openapi.json",
    "/sample",
  ]);
  const params = doc.paths["/sample"].get.parameters;
  assert.deepEqual(params.map((p: { name: string }) => p.name), [
    "n",
    "seed",
    "format",
    "scale",
    "label",
    "model",
  ]);
  assert.equal(params[0].schema.maximum, SAMPLE_LIMITS.maxSamples);
  assert.deepEqual(params[2].schema.enum, ["json", "png"]);
});

Deno.test("GET / is an HTML page showing a PNG grid for the seed, with a permalink", async () => {
  const res = await app.request("/?seed=12");
  assert.equal(res.status, 200);
  assert.match(res.headers.get("Content-Type")!, /text\/html/);
  const html = await res.text();
  assert.match(html, /<img id="grid" src="\/sample\?format=png&amp;n=16&amp;scale=4&amp;seed=12"/);
  assert.match(
    html,
    /<img id="walk" src="\/interpolate\?format=png&amp;from=12&amp;to=13&amp;steps=8/,
  );
  assert.match(html, /<input id="seed-input" name="seed" type="number"[^>]* value="12"/);
  assert.match(html, /href="\/\?seed=12"/);
  assert.match(html, /dropout \(G \/ D\)<\/dt><dd>0\.5 \/ 0\.5/);
});

Deno.test("every response carries CORS, nosniff, request-id and timing headers; each kind its own security headers", async () => {
  const res = await app.request("/sample?seed=918273", {
    headers: { Origin: "https://example.org" },
  });
  assert.equal(res.headers.get("Access-Control-Allow-Origin"), "*");
  assert.equal(res.headers.get("X-Content-Type-Options"), "nosniff");
  assert.match(res.headers.get("X-Request-Id")!, /^[0-9a-f-]{36}$/);
  assert.match(res.headers.get("Server-Timing")!, /generate;dur=[\d.]+/);
  assert.match(res.headers.get("Server-Timing")!, /encode;dur=[\d.]+, total;dur=[\d.]+$/);
  // Document headers go on the page, not on JSON or PNG; PNG may be embedded by any origin.
  for (const name of ["Content-Security-Policy", "Strict-Transport-Security", "Referrer-Policy"]) {
    assert.equal(res.headers.get(name), null, name);
  }
  const png = await app.request("/sample?seed=918273&format=png");
  assert.equal(png.headers.get("Cross-Origin-Resource-Policy"), "cross-origin");
  assert.equal(png.headers.get("Access-Control-Allow-Origin"), "*");
  assert.equal(png.headers.get("Strict-Transport-Security"), null);
  await png.body?.cancel();
  const page = await app.request("/?seed=1");
  assert.match(
    page.headers.get("Content-Security-Policy")!,
    /default-src 'none'.*frame-ancestors 'none'/,
  );
  assert.equal(page.headers.get("X-Frame-Options"), "DENY");
  assert.equal(
    page.headers.get("Strict-Transport-Security"),
    "max-age=15552000; includeSubDomains",
  );
  assert.equal(page.headers.get("Referrer-Policy"), "no-referrer");
  assert.equal(page.headers.get("Content-Type"), "text/html; charset=UTF-8");
  assert.equal(page.headers.get("X-Content-Type-Options"), "nosniff");
  await page.body?.cancel();
  // A client's own request id is echoed; a hostile one is replaced.
  const mine = await app.request("/healthz", { headers: { "X-Request-Id": "trace-42" } });
  assert.equal(mine.headers.get("X-Request-Id"), "trace-42");
  const bad = await app.request("/healthz", { headers: { "X-Request-Id": "a b<script>" } });
  assert.match(bad.headers.get("X-Request-Id")!, /^[0-9a-f-]{36}$/);
  await Promise.all([mine.body?.cancel(), bad.body?.cancel(), res.body?.cancel()]);
  const preflight = await app.request("/sample", {
    method: "OPTIONS",
    headers: {
      Origin: "https://example.org",
      "Access-Control-Request-Method": "GET",
      "Access-Control-Request-Headers": "if-none-match",
    },
  });
  assert.equal(preflight.status, 204);
  assert.equal(preflight.headers.get("Access-Control-Allow-Methods"), "GET,HEAD");
  assert.equal(preflight.headers.get("Access-Control-Allow-Headers"), "if-none-match");
  assert.equal(preflight.headers.get("Access-Control-Allow-Origin"), "*");
});

Deno.test("a model that failed to load answers 503 with the reason and never samples", async () => {
  const failed = createApp({ ready: false, reason: "models/x/model.json: file not found" });
  for (const path of ["/healthz", "/sample?seed=1", "/model"]) {
    const res = await failed.request(path);
    assert.equal(res.status, 503, path);
    assert.deepEqual(await json(res), {
      error: "model_unavailable",
      detail: "models/x/model.json: file not found",
    });
  }
  assert.equal((await failed.request("/sample?n=0")).status, 400, "bad input is still a 400");
});

Deno.test("a tampered, truncated or mislabelled model fails to load with a message naming the file", async () => {
  // The server's tfjs-free loader and the tfjs loader (eval, tools) make the same checks.
  for (const loadGenerator of [loadRunner, loadTfjsRunner]) {
    await tamperChecks(loadGenerator);
  }
});

async function tamperChecks(loadGenerator: (dir: string) => Promise<unknown>) {
  const dir = `${ROOT}/models/test-tmp-tamper-${crypto.randomUUID().slice(0, 8)}`;
  try {
    const copy = async () => {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
      await Deno.mkdir(dir);
      for (const e of Deno.readDirSync(`${ROOT}/${FIXTURE}`)) {
        if (e.isFile) await Deno.copyFile(`${ROOT}/${FIXTURE}/${e.name}`, `${dir}/${e.name}`);
      }
      return [...Deno.readDirSync(dir)].find((e) => e.name.endsWith(".bin"))!.name;
    };
    let weights = await copy();
    const bytes = await Deno.readFile(`${dir}/${weights}`);
    bytes[100] ^= 1;
    await Deno.writeFile(`${dir}/${weights}`, bytes);
    await assert.rejects(
      loadGenerator(dir),
      (e: Error) =>
        e instanceof ModelLoadError && e.message.includes(weights) &&
        /sha256 .* does not match/.test(e.message),
    );

    weights = await copy();
    await Deno.writeFile(`${dir}/${weights}`, bytes.subarray(0, 1000));
    await assert.rejects(loadGenerator(dir), /does not match .*truncated or altered/);

    // deno-lint-ignore no-explicit-any
    const edit = async (change: (json: any) => void) => {
      await copy();
      const json = JSON.parse(await Deno.readTextFile(`${dir}/model.json`));
      change(json);
      await Deno.writeTextFile(`${dir}/model.json`, JSON.stringify(json));
    };
    await edit((j) => j.userDefinedMetadata.edgegan.formatVersion = 99);
    await assert.rejects(
      loadGenerator(dir),
      /model\.json: metadata formatVersion 99 is not supported/,
    );
    await edit((j) => delete j.userDefinedMetadata);
    await assert.rejects(loadGenerator(dir), /model\.json: has no edgegan metadata/);
    await edit((j) => j.userDefinedMetadata.edgegan.golden.values[3] += 0.5);
    await assert.rejects(loadGenerator(dir), /model\.json: golden sample mismatch/);
    await edit((j) => j.weightsManifest[0].paths = ["../../etc/passwd"]);
    await assert.rejects(loadGenerator(dir), /must be a plain file name/);
    await copy();
    await Deno.writeTextFile(`${dir}/model.json`, "{not json");
    await assert.rejects(loadGenerator(dir), /model\.json: not valid JSON/);
    await assert.rejects(loadGenerator(`${dir}-missing`), /model\.json: file not found/);
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

Deno.test("a real server with the serve task's permissions answers JSON and a decodable PNG", async () => {
  assert.deepEqual(taskArgs("serve"), [
    "run",
    "--allow-net",
    "--allow-read=.",
    "--allow-env=PORT",
    // A 1 MiB young generation and a 128 MiB old one keep memory flat under load (bench/).
    "--v8-flags=--max-semi-space-size=1,--max-old-space-size=128",
    "serve/main.ts",
  ]);
  const server = await startServer(FIXTURE);
  try {
    assert.match(server.seen, new RegExp(`serving ${sampler.id} on http://127.0.0.1:`));
    const body = await (await fetch(`${server.base}/sample?n=4&seed=11`)).json();
    assert.deepEqual(
      body.samples,
      JSON.parse(new TextDecoder().decode(sampler.json({ seed: 11 }, sampler.generate(11, 4), 4)))
        .samples,
    );
    const res = await fetch(`${server.base}/sample?n=4&seed=11&format=png&scale=3`);
    const bytes = new Uint8Array(await res.arrayBuffer());
    assert.deepEqual(Array.from(bytes.subarray(0, 8)), [137, 80, 78, 71, 13, 10, 26, 10]);
    const image = decodePng(bytes);
    assert.equal(image.width, 2 * 28 * 3);
    assert.equal(image.height, 2 * 28 * 3);
    for (let i = 0; i < 4; i++) {
      const [row, col] = [Math.floor(i / 2), i % 2];
      for (const [y, x] of [[3, 4], [14, 14], [20, 9]]) {
        assert.equal(
          image.data[(row * 84 + y * 3) * image.width + col * 84 + x * 3],
          body.samples[i][y * 28 + x],
        );
      }
    }
    assert.equal((await fetch(`${server.base}/healthz`)).status, 200);
    const bad = await fetch(`${server.base}/sample?n=9999`);
    assert.equal(bad.status, 400);
    await bad.body?.cancel();
  } finally {
    assert.equal(await server.stop(), "");
  }
});

Deno.test("a real server with a tampered model starts, logs one line and answers 503", async () => {
  const dir = `models/test-tmp-bad-${crypto.randomUUID().slice(0, 8)}`;
  await Deno.mkdir(`${ROOT}/${dir}`);
  try {
    for (const e of Deno.readDirSync(`${ROOT}/${FIXTURE}`)) {
      if (e.isFile) await Deno.copyFile(`${ROOT}/${FIXTURE}/${e.name}`, `${ROOT}/${dir}/${e.name}`);
    }
    const weights = [...Deno.readDirSync(`${ROOT}/${dir}`)].find((e) =>
      e.name.endsWith(".bin")
    )!.name;
    const bytes = await Deno.readFile(`${ROOT}/${dir}/${weights}`);
    bytes[0] ^= 0xff;
    await Deno.writeFile(`${ROOT}/${dir}/${weights}`, bytes);
    const server = await startServer(dir);
    let stderr = "";
    try {
      const res = await fetch(`${server.base}/healthz`);
      assert.equal(res.status, 503);
      const body = await res.json();
      assert.equal(body.error, "model_unavailable");
      assert.match(body.detail, new RegExp(`${weights}: sha256 .* does not match`));
      const sample = await fetch(`${server.base}/sample?seed=1`);
      assert.equal(sample.status, 503);
      await sample.body?.cancel();
    } finally {
      stderr = await server.stop();
    }
    assert.equal(stderr.trim().split("\n").length, 1);
    assert.match(stderr, /^error: model not served: .*sha256/);
  } finally {
    await Deno.remove(`${ROOT}/${dir}`, { recursive: true });
  }
});

Deno.test("GET /interpolate walks from one seed's latent to another's, ends included", async () => {
  const res = await app.request("/interpolate?from=3&to=9&steps=5");
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("X-From"), "3");
  assert.equal(res.headers.get("X-To"), "9");
  assert.equal(res.headers.get("Cache-Control"), "public, max-age=31536000, immutable");
  assert.equal(res.headers.get("ETag"), `"${ID}-d2-interpolate-json-5-3-9-5"`);
  const body = await json(res);
  assert.deepEqual([body.from, body.to, body.steps, body.n], [3, 9, 5, 5]);
  // The ends are exactly the samples of the two seeds.
  const first = await json(await app.request("/sample?seed=3"));
  const last = await json(await app.request("/sample?seed=9"));
  assert.deepEqual(body.samples[0], first.samples[0]);
  assert.deepEqual(body.samples[4], last.samples[0]);
  assert.notDeepEqual(body.samples[2], body.samples[0]);

  const png = decodePng(
    new Uint8Array(
      await (await app.request("/interpolate?from=3&to=9&steps=5&format=png&scale=2"))
        .arrayBuffer(),
    ),
  );
  assert.deepEqual([png.width, png.height], [5 * 28 * 2, 28 * 2], "one row of `steps` tiles");
  const again = await app.request("/interpolate?from=3&to=9&steps=5", {
    headers: { "If-None-Match": res.headers.get("ETag")! },
  });
  assert.equal(again.status, 304);

  const random = await app.request("/interpolate");
  assert.equal(random.headers.get("Cache-Control"), "no-store");
  assert.equal((await json(random)).steps, 8);
  for (
    const [path, detail] of [
      ["/interpolate?steps=1", /^steps: got "1"; accepts an integer 2\.\.64$/],
      ["/interpolate?steps=65", /^steps: got "65"/],
      ["/interpolate?from=-1", /^from: got "-1"/],
      ["/interpolate?to=x", /^to: got "x"/],
      ["/interpolate?seed=1", /unknown query parameter "seed"/],
    ] as const
  ) {
    const bad = await app.request(path);
    assert.equal(bad.status, 400, path);
    assert.match((await json(bad)).detail, detail);
  }
});

Deno.test("a seeded request asked for again is answered from the cache: the same bytes, no generation", async () => {
  const first = await app.request("/sample?seed=5150&n=3&format=png");
  // The second request generates too, and its response is kept (a seed asked for once is not).
  const second = await app.request("/sample?seed=5150&n=3&format=png");
  const again = await app.request("/sample?seed=5150&n=3&format=png");
  const firstBytes = new Uint8Array(await first.arrayBuffer());
  assert.deepEqual(new Uint8Array(await second.arrayBuffer()), firstBytes);
  assert.deepEqual(new Uint8Array(await again.arrayBuffer()), firstBytes);
  assert.match(first.headers.get("Server-Timing")!, /generate;dur=/);
  assert.match(second.headers.get("Server-Timing")!, /generate;dur=/);
  assert.doesNotMatch(again.headers.get("Server-Timing")!, /generate/);
  assert.equal(again.headers.get("ETag"), first.headers.get("ETag"));
  assert.equal(again.headers.get("Content-Type"), "image/png");
  // The same headers, each once, apart from the per-request id and timing.
  const listed = (res: Response) =>
    [...res.headers].filter(([name]) => !/^(x-request-id|server-timing)$/.test(name));
  assert.deepEqual(listed(again), listed(first));
  assert.equal(again.headers.get("Access-Control-Allow-Origin"), "*");
  assert.notEqual(again.headers.get("X-Request-Id"), first.headers.get("X-Request-Id"));
  // HEAD, answered from the same prepared response, carries each header once too.
  for (const path of ["/sample?seed=5150&n=3&format=png", "/healthz"]) {
    const head = await app.request(path, { method: "HEAD" });
    assert.equal(head.headers.get("Access-Control-Allow-Origin"), "*", path);
    assert.equal(head.headers.get("X-Content-Type-Options"), "nosniff", path);
  }
  // Unseeded requests are never cached; with no cache every request generates.
  const uncached = createApp({ ready: true, sampler }, { cacheBytes: 0 });
  for (let i = 0; i < 2; i++) {
    const res = await uncached.request("/sample?seed=5150&n=3&format=png");
    assert.match(res.headers.get("Server-Timing")!, /generate;dur=/);
    await res.body?.cancel();
  }
});

Deno.test("a seeded URL asked for many times is answered per Accept, with 304s and the client's request id kept", async () => {
  const app = createApp({ ready: true, sampler });
  const url = "/sample?seed=6061&n=2";
  const ask = (accept: string, headers: Record<string, string> = {}) =>
    app.request(url, { headers: { Accept: accept, ...headers } });
  // Four rounds each: generated, kept, served from the cache, then found by its raw URL.
  const bodies: Record<string, Uint8Array[]> = { png: [], json: [] };
  for (let i = 0; i < 4; i++) {
    for (const [format, accept] of [["png", "image/png"], ["json", "application/json"]]) {
      const res = await ask(accept);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get("Content-Type"), format === "png" ? "image/png" : JSON_TYPE);
      assert.equal(res.headers.get("Vary"), "Accept");
      bodies[format].push(new Uint8Array(await res.arrayBuffer()));
    }
  }
  for (const format of ["png", "json"]) {
    for (const body of bodies[format]) assert.deepEqual(body, bodies[format][0], format);
  }
  const etag = (await ask("image/png")).headers.get("ETag")!;
  const notModified = await ask("image/png", { "If-None-Match": etag });
  assert.equal(notModified.status, 304);
  const mine = await ask("image/png", { "X-Request-Id": "client-7" });
  assert.equal(mine.headers.get("X-Request-Id"), "client-7");
  assert.equal(mine.headers.get("Access-Control-Allow-Origin"), "*");
  assert.doesNotMatch(mine.headers.get("Server-Timing")!, /generate/);
  assert.deepEqual(new Uint8Array(await mine.arrayBuffer()), bodies.png[0]);
  const head = await app.request(url, { method: "HEAD", headers: { Accept: "image/png" } });
  assert.equal(head.status, 200);
  assert.equal(head.headers.get("ETag"), etag);
  assert.equal(head.body, null);
});

Deno.test("the response cache keeps the most recently used responses within its byte bound", async () => {
  const cache = new ResponseCache(10);
  const keep = (key: string, text: string) =>
    cache.set(key, new Prepared(text, 200, { "Content-Type": "text/plain" }), text.length);
  const text = async (key: string) => await cache.get(key)?.response().text();
  keep("a", "aaaa");
  keep("b", "bbbb");
  cache.get("a"); // a is now the most recent
  keep("c", "cccc"); // 12 bytes: b, the least recent, goes
  assert.deepEqual([await text("a"), await text("b"), await text("c")], [
    "aaaa",
    undefined,
    "cccc",
  ]);
  assert.equal(await text("a"), "aaaa", "a prepared response serves again and again");
  assert.equal(cache.bytes, 8);
  keep("huge", "x".repeat(11)); // larger than the bound: not kept
  assert.equal(cache.get("huge"), undefined);
  assert.equal(cache.size, 2);
  // Admission: a key is worth keeping from its second request on.
  assert.deepEqual([cache.admit("k"), cache.admit("k"), cache.admit("k")], [false, true, false]);
});

Deno.test("a sample's JSON body prints every pixel value exactly as JSON.stringify does", () => {
  // Two samples whose pixels run through 0..255 (every digit count), then repeat.
  const n = 2, size = sampler.sampleSize;
  const values = new Float32Array(n * size).map((_, i) => ((i % 256) / 255) * 2 - 1);
  const text = new TextDecoder().decode(sampler.json({ seed: 7 }, values, n));
  const pixels = toPixels(values, sampler.metadata.outputRange!);
  const parsed = JSON.parse(text);
  assert.deepEqual(
    parsed.samples,
    [0, 1].map((i) => Array.from(pixels.subarray(i * size, (i + 1) * size))),
  );
  assert.equal(parsed.samples[0][255], 255);
  assert.equal(text, JSON.stringify(parsed));
});
