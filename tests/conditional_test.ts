import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { initBackend } from "../tfjs/backend.ts";
import { generate, loadGenerator } from "../tfjs/generator_files.ts";
import { inputSpec } from "../format/generator_metadata.ts";
import { loadRunner } from "../engine/runner.ts";
import { labelsFor, latentBatch, withLabels } from "../random/seeded.ts";
import { createApp } from "../serve/app.ts";
import { Sampler } from "../serve/sampler.ts";
import { parseTrainArgs } from "../train/config.ts";
import { UsageError } from "../cli/flags.ts";
import { tempDir, trainTinyModel } from "./helpers.ts";
import { accuracy, classify, loadClassifier } from "../eval/classifier.ts";
import { toPixels } from "../image/pixels.ts";

await initBackend("wasm");
const dir = await tempDir("cond");
await trainTinyModel(`${dir}/cond`, { conditional: true });
await trainTinyModel(`${dir}/plain`);
const cond = await loadGenerator(`${dir}/cond`);
const plain = await loadGenerator(`${dir}/plain`);
const app = createApp({
  ready: true,
  sampler: new Sampler(await loadRunner(`${dir}/cond`)),
});
const plainApp = createApp({
  ready: true,
  sampler: new Sampler(await loadRunner(`${dir}/plain`)),
});

Deno.test.afterAll(async () => {
  cond.model.dispose();
  plain.model.dispose();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("--conditional trains on MNIST only, defaults to models/mnist-cond and to the auxiliary classifier", () => {
  assert.equal(parseTrainArgs(["--conditional"]).config.out, "models/mnist-cond");
  assert.equal(parseTrainArgs(["--conditional"]).config.auxClassifier, 1);
  assert.equal(parseTrainArgs(["--conditional", "--aux-classifier", "0"]).config.auxClassifier, 0);
  assert.equal(parseTrainArgs([]).config.auxClassifier, 0);
  assert.throws(
    () => parseTrainArgs(["--conditional", "--dataset", "ring8"]),
    (e: Error) =>
      e instanceof UsageError && e.message === "--conditional: needs --dataset mnist (got ring8)",
  );
});

Deno.test("a conditional generator records its label set and takes latent + one-hot label inputs", () => {
  assert.deepEqual(cond.metadata.labels, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.deepEqual(cond.model.inputs[0].shape, [null, 16 + 10]);
  assert.equal(plain.metadata.labels, undefined);
  // generate(label) is G on [z, onehot(label)] with dropout off: tfjs predict, up to float
  // rounding (training's forward computes tanh through sigmoid).
  const z = latentBatch(5, 3, 16);
  const expected = tf.tidy(() =>
    (cond.model.predict(tf.tensor2d(withLabels(z, 3, 16, 10, [7, 7, 7]), [3, 26])) as tf.Tensor)
      .dataSync()
  );
  const got = generate(cond.model, inputSpec(cond.metadata), 5, 3, 7);
  assert.equal(got.length, expected.length);
  assert.ok(got.every((v, i) => Math.abs(v - expected[i]) < 1e-6));
});

Deno.test("GET /sample?label=7 feeds label 7 to G and says so; without one, labels come from the seed", async () => {
  const res = await app.request("/sample?n=4&seed=9&label=7");
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("X-Label"), "7");
  assert.match(res.headers.get("ETag")!, /-sample-json-4-9-7"$/);
  const body = await res.json();
  assert.deepEqual(body.labels, [7, 7, 7, 7]);
  assert.equal(body.label, 7);
  const free = await (await app.request("/sample?n=6&seed=9")).json();
  assert.deepEqual(free.labels, labelsFor(9, 6, 10));
  const prefix = await (await app.request("/sample?n=3&seed=9")).json();
  assert.deepEqual(
    prefix.samples,
    free.samples.slice(0, 3),
    "the prefix property holds with labels too",
  );
  assert.notDeepEqual(body.samples[0], free.samples[0]);
  const again = await (await app.request("/sample?n=4&seed=9&label=7")).text();
  assert.equal(again, JSON.stringify(body), "deterministic");
  // The pixels are G's output for the latents with label 7's one-hot code.
  const expected = generate(cond.model, inputSpec(cond.metadata), 9, 4, 7);
  assert.deepEqual(body.samples.flat(2), Array.from(toPixels(expected)));
});

Deno.test("the served shipped mnist-cond draws the digit asked for, as the classifier sees it", async () => {
  const served = createApp({
    ready: true,
    sampler: new Sampler(await loadRunner("models/mnist-cond")),
  });
  const classifier = await loadClassifier();
  try {
    const n = 40;
    for (let label = 0; label < 10; label++) {
      const body = await (await served.request(`/sample?n=${n}&seed=77&label=${label}`)).json();
      const images = Float32Array.from(body.samples.flat(2) as number[], (v) => v / 127.5 - 1);
      const { probs } = classify(classifier, images, n);
      const hit = accuracy(probs, new Uint8Array(n).fill(label));
      // The recorded accuracies are 91-100% per digit; 40 samples leave room for chance.
      assert.ok(hit >= 0.8, `label ${label}: ${(100 * hit).toFixed(0)}% classified as ${label}`);
    }
  } finally {
    classifier.model.dispose();
  }
});

Deno.test("label is validated against the model's label set, and refused by an unconditional model", async () => {
  const bad = await app.request("/sample?label=10");
  assert.equal(bad.status, 400);
  assert.match((await bad.json()).detail, /^label: got "10"; accepts an integer 0\.\.9 for /);
  const unconditional = await plainApp.request("/sample?label=1");
  assert.equal(unconditional.status, 400);
  assert.match((await unconditional.json()).detail, /is unconditional and takes no label/);
  assert.equal((await plainApp.request("/interpolate?label=1")).status, 400);
});

Deno.test("GET /interpolate keeps one label along the walk", async () => {
  const body = await (await app.request("/interpolate?from=1&to=2&steps=4&label=3")).json();
  assert.deepEqual(body.labels, [3, 3, 3, 3]);
  const start = await (await app.request("/sample?seed=1&label=3")).json();
  assert.deepEqual(body.samples[0], start.samples[0]);
});

Deno.test("the page offers a digit picker for a conditional model and keeps the choice in its links", async () => {
  const html = await (await app.request("/?seed=4&label=2")).text();
  assert.match(html, /<a class="digit" href="\/\?seed=4&amp;label=7">7<\/a>/);
  assert.match(html, /<a class="digit" href="\/\?seed=4&amp;label=2" aria-current="page">2<\/a>/);
  assert.match(
    html,
    /id="grid" src="\/sample\?format=png&amp;n=16&amp;scale=4&amp;seed=4&amp;label=2"/,
  );
  assert.doesNotMatch(await (await plainApp.request("/?seed=4")).text(), /class="digit"/);
});
