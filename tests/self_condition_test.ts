/**
 * Self-conditioning (--self-condition K): k-means clusters of the training images stand in for
 * labels; G's input carries the cluster's one-hot code, drawn from the seed by cluster size.
 */
import assert from "node:assert/strict";
import { kMeans } from "../train/clusters.ts";
import { labelsFor, latentBatch, mix32, Rng } from "../random/seeded.ts";
import { parseTrainArgs } from "../train/config.ts";
import { RealData } from "../train/gan.ts";
import { MIXTURES } from "../datasets/mixtures.ts";
import { nearest } from "../train/clusters.ts";
import { runTraining } from "../train/loop.ts";
import { loadRunner } from "../engine/runner.ts";
import { generatorInputs, inputSpec } from "../format/generator_metadata.ts";
import { createApp } from "../serve/app.ts";
import { Sampler } from "../serve/sampler.ts";
import { initBackend } from "../tfjs/backend.ts";
import {
  quietPrinter,
  smallConfig,
  tempDir,
  trainInterruptedAndResumed,
  weightsHash,
} from "./helpers.ts";

await initBackend("wasm");

Deno.test("k-means finds three separated blobs, sized as they are, the same for a seed", () => {
  const sizes = [600, 300, 100];
  const centres = [[-5, 0], [5, 0], [0, 8]];
  const rng = new Rng(mix32(7, 1));
  const rows: number[] = [];
  const truth: number[] = [];
  sizes.forEach((size, c) => {
    for (let i = 0; i < size; i++) {
      rows.push(centres[c][0] + rng.nextNormal() * 0.5, centres[c][1] + rng.nextNormal() * 0.5);
      truth.push(c);
    }
  });
  const x = Float32Array.from(rows);
  const { assignment, weights } = kMeans(x, 1000, 2, 3, 1);
  // Each blob maps to one cluster, whatever its number.
  const clusterOf = [0, 600, 900].map((first) => assignment[first]);
  assert.equal(new Set(clusterOf).size, 3);
  truth.forEach((c, i) => assert.equal(assignment[i], clusterOf[c]));
  assert.deepEqual(clusterOf.map((k) => weights[k]), [0.6, 0.3, 0.1]);
  assert.deepEqual(kMeans(x, 1000, 2, 3, 1).assignment, assignment);
});

Deno.test("clusters are drawn in proportion to their sizes, and the first k of n are the same", () => {
  const weights = [0.5, 0.3, 0.2];
  const drawn = labelsFor(9, 20_000, 3, undefined, weights);
  const share = [0, 1, 2].map((c) => drawn.filter((d) => d === c).length / drawn.length);
  share.forEach((s, c) => assert.ok(Math.abs(s - weights[c]) < 0.015, `cluster ${c}: ${s}`));
  assert.deepEqual(labelsFor(9, 5, 3, undefined, weights), drawn.slice(0, 5));
});

Deno.test("a self-conditioned run records its clusters, serves them from the seed, takes no label, and resumes exactly", async (t) => {
  const dir = await tempDir(t);
  try {
    const quiet = { printer: quietPrinter().printer };
    const flags = { selfCondition: 3 };
    await runTraining(smallConfig(`${dir}/full`, flags), new Set(), quiet);
    const resumed = await trainInterruptedAndResumed(smallConfig(`${dir}/split`, flags), 20);
    assert.equal(resumed, await weightsHash(`${dir}/full`));

    const runner = await loadRunner(`${dir}/full`);
    const { clusters, labels } = runner.metadata;
    assert.equal(labels, undefined, "no digit labels");
    assert.equal(clusters!.count, 3);
    assert.ok(Math.abs(clusters!.weights.reduce((a, b) => a + b, 0) - 1) < 1e-5);
    assert.deepEqual(inputSpec(runner.metadata), {
      size: 8,
      classes: 3,
      weights: clusters!.weights,
    });

    const app = createApp({ ready: true, sampler: new Sampler(runner) });
    const body = await (await app.request("/sample?seed=12&n=6")).json();
    assert.deepEqual(body.clusters, labelsFor(12, 6, 3, undefined, clusters!.weights));
    assert.equal(body.labels, undefined);
    // The served pixels are G on the latent plus that cluster's one-hot code.
    const rows = generatorInputs(inputSpec(runner.metadata), 12, 6);
    assert.deepEqual(Array.from(rows.subarray(0, 8)), Array.from(latentBatch(12, 1, 8)));
    assert.equal(rows[8 + body.clusters[0]], 1);
    const listed = (await (await app.request("/models")).json()).models[0];
    assert.equal(listed.clusters, 3);
    assert.equal(listed.labels, undefined);
    const page = await (await app.request("/?seed=12")).text();
    assert.match(page, /self-conditioned on<\/dt><dd>3 unlabelled clusters/);
    assert.doesNotMatch(page, /aria-label="digit"/, "no digit picker: clusters are not labels");
    const refused = await app.request("/sample?seed=12&label=1");
    assert.equal(refused.status, 400);
    assert.match((await refused.json()).detail, /self-conditioned on unlabelled clusters/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("--self-condition needs an unconditional GAN and 2 or more clusters", () => {
  const cases: [string[], string][] = [
    [
      ["--self-condition", "5", "--conditional"],
      "--self-condition: needs an unconditional GAN (got --conditional)",
    ],
    [
      ["--self-condition", "1"],
      '--self-condition: got "1"; accepts an integer 0..200 (0 = off), 2 or more clusters',
    ],
    [
      ["--self-condition", "201"],
      '--self-condition: got "201"; accepts an integer 0..200 (0 = off), 2 or more clusters',
    ],
  ];
  for (const [argv, message] of cases) assert.throws(() => parseTrainArgs(argv), { message });
  assert.equal(parseTrainArgs(["--self-condition", "30"]).config.selfCondition, 30);
  assert.equal(parseTrainArgs([]).config.selfCondition, 100, "the default recipe's clusters");
  // Without the flag, conditional and 2-D runs are never self-conditioned.
  assert.equal(parseTrainArgs(["--conditional"]).config.selfCondition, 0);
  assert.equal(parseTrainArgs(["--dataset", "grid25"]).config.selfCondition, 0);
  assert.equal(
    parseTrainArgs(["--dataset", "grid25", "--self-condition", "50"]).config.selfCondition,
    50,
  );
  assert.equal(parseTrainArgs(["--recipe", "seed"]).config.selfCondition, 0);
});

Deno.test("on a 2-D mixture the clusters sit on its modes, and each real point gets its nearest", () => {
  // 50 clusters for 25 modes: k-means with exactly 25 can straddle two modes (seen at seeds 1, 3).
  const config = parseTrainArgs(["--recipe", "2d", "--dataset", "grid25", "--self-condition", "50"])
    .config;
  const data = new RealData(config);
  const { centroids, weights } = data.clusters!;
  const { modes, std } = MIXTURES.grid25;
  const modeOf = (c: number) => {
    const d = modes.map(([x, y]) => Math.hypot(x - centroids[2 * c], y - centroids[2 * c + 1]));
    return { mode: d.indexOf(Math.min(...d)), dist: Math.min(...d) };
  };
  const found = new Set<number>();
  for (let c = 0; c < 50; c++) {
    const { mode, dist } = modeOf(c);
    assert.ok(dist < 3 * std, `cluster ${c} lies between modes (${dist.toFixed(3)} from one)`);
    found.add(mode);
  }
  assert.equal(found.size, 25, "every mode has a cluster");
  assert.ok(Math.abs(weights.reduce((a, b) => a + b, 0) - 1) < 1e-5);
  // A real batch's labels are its points' nearest centroids, the same on every call.
  const points = data.batch(7);
  const labels = data.labels(7);
  assert.equal(labels.length, config.batch);
  labels.forEach((l, i) => assert.equal(l, nearest(points, i, centroids, 50, 2).cluster));
  assert.deepEqual(data.labels(7), labels);
});

Deno.test("a self-conditioned 2-D run trains, resumes exactly, and serves points by cluster", async (t) => {
  const dir = await tempDir(t);
  try {
    const flags = { dataset: "ring8" as const, selfCondition: 8, engine: "tfjs" as const };
    await runTraining(smallConfig(`${dir}/full`, flags), new Set(), {
      printer: quietPrinter().printer,
    });
    const resumed = await trainInterruptedAndResumed(smallConfig(`${dir}/split`, flags), 20);
    assert.equal(resumed, await weightsHash(`${dir}/full`));
    const runner = await loadRunner(`${dir}/full`);
    assert.equal(runner.metadata.clusters!.count, 8);
    const app = createApp({ ready: true, sampler: new Sampler(runner) });
    const body = await (await app.request("/sample?seed=3&n=4")).json();
    assert.equal(body.samples.length, 4);
    assert.deepEqual(
      body.clusters,
      labelsFor(3, 4, 8, undefined, runner.metadata.clusters!.weights),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
