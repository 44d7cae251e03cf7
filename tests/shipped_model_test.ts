/**
 * The shipped generators against their recorded metrics: the samples are scored again here with
 * the project's classifier (not read back from the metadata), on fewer samples than the
 * recorded 10,000, so the tolerances allow for sampling error. Quality is not retrained in CI.
 */
import assert from "node:assert/strict";
import { initBackend } from "../tfjs/backend.ts";
import { generate, loadGenerator } from "../tfjs/generator_files.ts";
import { inputSpec } from "../format/generator_metadata.ts";
import { accuracy, classify, loadClassifier } from "../eval/classifier.ts";
import { classifierScore, coverage, pacganMetrics } from "../eval/metrics.ts";
import { GRID25 } from "../datasets/mixtures.ts";

await initBackend("wasm");
const classifier = await loadClassifier();
Deno.test.afterAll(() => {
  classifier.model.dispose();
});

const modelDir = (name: string) => new URL(`../models/${name}`, import.meta.url).pathname;

Deno.test("the shipped models/mnist draws digits the classifier scores as its metadata says", async () => {
  // loadGenerator throws unless the weights hash and the golden sample both match.
  const { model, metadata } = await loadGenerator(modelDir("mnist"));
  try {
    assert.equal(metadata.dataset, "mnist");
    assert.deepEqual(metadata.outputShape, [28, 28]);
    assert.ok(metadata.steps >= 50_000, `trained for ${metadata.steps} steps`);
    const recorded = metadata.metrics as Record<string, number>;
    const n = 2000;
    // Another seed than the recorded evaluation's: a fresh draw from the same generator.
    const { probs } = classify(classifier, generate(model, inputSpec(metadata), 11, n), n);
    const score = classifierScore(probs, n);
    assert.ok(
      Math.abs(score - recorded.classifierScore) < 0.3,
      `classifier score ${score.toFixed(3)} vs recorded ${recorded.classifierScore}`,
    );
    const { histogram } = coverage(probs, n);
    histogram.forEach((p, digit) =>
      assert.ok(p > 0.05 && p < 0.15, `digit ${digit} is ${(100 * p).toFixed(1)}% of samples`)
    );
  } finally {
    model.dispose();
  }
});

Deno.test("the shipped models/mnist-cond draws the digit asked for, as the classifier sees it", async () => {
  const { model, metadata } = await loadGenerator(modelDir("mnist-cond"));
  try {
    assert.deepEqual(metadata.labels, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.equal(model.inputs[0].shape[1], metadata.latent.size + 10);
    const recorded = metadata.metrics!.labelAccuracy as number[];
    const n = 400;
    for (const label of metadata.labels!) {
      const images = generate(model, inputSpec(metadata), 100 + label, n, label);
      const { probs } = classify(classifier, images, n);
      const hit = accuracy(probs, new Uint8Array(n).fill(label));
      // 400 samples: a standard error of ~1 point near 95%, so 3 points of slack.
      assert.ok(
        hit >= recorded[label] - 0.03,
        `label ${label}: ${(100 * hit).toFixed(1)}% classified as ${label}, recorded ${
          (100 * recorded[label]).toFixed(1)
        }%`,
      );
    }
  } finally {
    model.dispose();
  }
});

Deno.test("the shipped models/grid25 meets the bar on a fresh draw, as its metadata says", async () => {
  // loadGenerator throws unless the weights hash and the golden sample both match.
  const { model, metadata } = await loadGenerator(modelDir("grid25"));
  try {
    assert.equal(metadata.dataset, "grid25");
    assert.deepEqual(metadata.outputShape, [2]);
    const recorded = metadata.metrics as Record<string, number>;
    // The PacGAN protocol's 2,500 samples, from another seed than the recorded evaluation's.
    const m = pacganMetrics(generate(model, inputSpec(metadata), 7, 2500), GRID25);
    assert.ok(Math.abs(m.modes - recorded.modes) <= 1, `${m.modes} modes vs ${recorded.modes}`);
    assert.ok(
      Math.abs(m.highQuality - recorded.highQuality) < 0.04,
      `high quality ${m.highQuality} vs ${recorded.highQuality}`,
    );
    assert.ok(m.reverseKl < recorded.reverseKl + 0.03, `reverse KL ${m.reverseKl}`);
    // The bar (issue #13): every mode, >= 95% high quality, reverse KL <= 0.04.
    assert.equal(m.modes, 25);
    assert.ok(m.highQuality >= 0.95, `high quality ${m.highQuality}`);
    assert.ok(m.reverseKl <= 0.04, `reverse KL ${m.reverseKl}`);
  } finally {
    model.dispose();
  }
});
