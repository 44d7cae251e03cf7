/**
 * The quality features of the trainer: the generator's moving average (--ema), dropout
 * schedules (--g-dropout START:END), Dropout-GAN (--d-ensemble), one-sided label smoothing and
 * top-k generator updates (--g-top-k).
 */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { loadGenerator } from "../tfjs/generator_files.ts";
import { initBackend } from "../tfjs/backend.ts";
import { latentBatch } from "../random/seeded.ts";
import { runTraining } from "../train/loop.ts";
import { Gan, RealData, topKMask, updateMovingAverage } from "../train/gan.ts";
import { forward } from "../nn/mlp.ts";
import type { TrainConfig } from "../train/config.ts";
import { loadMnist } from "../datasets/mnist.ts";
import {
  assertDeterministicAndResumable,
  quietPrinter,
  smallConfig,
  tempDir,
  weightsHash,
} from "./helpers.ts";

await initBackend("wasm");
const mnist = await loadMnist("train");

function ganOf(overrides: Partial<TrainConfig>): Gan {
  const config = smallConfig("models/unused", overrides);
  return new Gan(config, new RealData(config, config.dataset === "mnist" ? mnist : undefined));
}

const values = (vars: tf.Tensor[]) => vars.map((v) => Array.from(v.dataSync()));

Deno.test("EMA with decay 0 equals G; the Gan's average lags G and lives in its own model", () => {
  const gan = ganOf({ ema: 0.9 });
  try {
    for (let s = 0; s < 3; s++) gan.step(s);
    const g = values(gan.gVars);
    const copy = gan.ema!.map((e) => e.slice());
    copy.forEach((e, i) => updateMovingAverage(e, Float32Array.from(g[i]), 0));
    assert.deepEqual(copy.map((e) => Array.from(e)), g);
    assert.notDeepEqual(gan.ema!.map((e) => Array.from(e)), g, "decay 0.9 lags G");
    const averaged = gan.averagedGenerator();
    assert.notEqual(averaged, gan.generator, "a separate model holds the average");
    assert.deepEqual(values(averaged.getWeights()), gan.ema!.map((e) => Array.from(e)));
  } finally {
    gan.dispose();
  }
});

Deno.test("EMA by hand: ema = 0.9 * ema + 0.1 * G after each step, starting from G's first weights", () => {
  const gan = ganOf({ ema: 0.9 });
  try {
    let expected = values(gan.gVars).map((v) => Float32Array.from(v));
    for (let s = 0; s < 3; s++) {
      gan.step(s);
      const w = values(gan.gVars);
      expected = expected.map((e, i) => e.map((x, j) => 0.9 * x + (1 - 0.9) * w[i][j]));
    }
    gan.ema!.forEach((e, i) => assert.deepEqual(Array.from(e), Array.from(expected[i])));
  } finally {
    gan.dispose();
  }
});

Deno.test("a run with --ema saves the averaged generator and says so in the metadata", async (t) => {
  const dir = await tempDir(t);
  try {
    const quiet = { printer: quietPrinter().printer };
    await runTraining(smallConfig(`${dir}/ema`, { ema: 0.95, steps: 20 }), new Set(), quiet);
    await runTraining(smallConfig(`${dir}/raw`, { steps: 20 }), new Set(), quiet);
    const ema = await loadGenerator(`${dir}/ema`);
    assert.deepEqual(ema.metadata.ema, { decay: 0.95 });
    assert.equal(ema.metadata.hyperparameters.ema, 0.95);
    assert.equal((await loadGenerator(`${dir}/raw`)).metadata.ema, undefined);
    // Same seed, same raw G: only the averaging differs.
    assert.notEqual(await weightsHash(`${dir}/ema`), await weightsHash(`${dir}/raw`));
    // The saved weights are the checkpoint's average.
    const { loadCheckpoint } = await import("../train/checkpoint.ts");
    const checkpoint = await loadCheckpoint(`${dir}/ema`);
    const saved = ema.model.getWeights().map((w) => Array.from(w.dataSync()));
    saved.forEach((w, i) =>
      assert.deepEqual(w, Array.from(checkpoint.tensors[`Gema/${i}`].values))
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a dropout schedule changes the rate: the masks' zero fraction follows 0.5 -> 0", () => {
  const gan = ganOf({ gDropout: { start: 0.5, end: 0, curve: "linear" }, steps: 100 });
  try {
    const z = tf.tensor2d(latentBatch(1, 512, 8), [512, 8]);
    const zeroFraction = () =>
      tf.tidy(() => {
        const mask = forward(gan.g, z as tf.Tensor2D, 7).masks[0];
        if (!mask) return 0;
        const m = mask.dataSync();
        return m.filter((x) => x === 0).length / m.length;
      });
    for (const [step, rate] of [[0, 0.5], [50, 0.25], [90, 0.05]]) {
      gan.step(step);
      assert.ok(Math.abs(gan.g.dropout - rate) < 1e-12, `rate at step ${step}`);
      assert.ok(Math.abs(zeroFraction() - rate) < 0.02, `zeros at step ${step}: ${zeroFraction()}`);
    }
    gan.step(100 - 1);
    assert.ok(gan.g.dropout < 0.006);
    // D keeps its constant rate.
    assert.equal(gan.d.dropout, 0.5);
    z.dispose();
  } finally {
    gan.dispose();
  }
});

Deno.test("Dropout-GAN keeps at least one discriminator every step, and drops at the set rate", () => {
  const gan = ganOf({ dEnsemble: 4, dEnsembleDrop: 0.9 });
  const all = ganOf({ dEnsemble: 2, dEnsembleDrop: 0 });
  try {
    let kept = 0;
    for (let s = 0; s < 2000; s++) {
      const k = gan.keptDiscriminators(s);
      assert.equal(k.length, 4);
      assert.ok(k.includes(true), `step ${s} keeps one`);
      kept += k.filter((x) => x).length;
    }
    // Each is kept with chance 0.1, plus one forced when all four drop (0.9^4 = 0.656).
    const expected = 2000 * (4 * 0.1 + 0.9 ** 4);
    assert.ok(Math.abs(kept - expected) < 0.1 * expected, `${kept} vs ${expected}`);
    assert.deepEqual(all.keptDiscriminators(3), [true, true]);
    // The discriminators start apart and all train.
    const before = values(gan.ds.map((d) => d.variables[0]));
    assert.notDeepEqual(before[0], before[1]);
    gan.step(0);
    const after = values(gan.ds.map((d) => d.variables[0]));
    after.forEach((a, k) => assert.notDeepEqual(a, before[k], `D${k} updated`));
  } finally {
    gan.dispose();
    all.dispose();
  }
});

Deno.test("label smoothing lowers D's real target: D's loss at a confident real logit is not 0", () => {
  const smooth = ganOf({ realTarget: 0.9 });
  const plain = ganOf({});
  try {
    const a = smooth.step(0), b = plain.step(0);
    // Same weights, data and masks before the step: the real target alone changes D's loss.
    assert.notEqual(a.dLoss, b.dLoss);
    assert.equal(a.dReal, b.dReal);
  } finally {
    smooth.dispose();
    plain.dispose();
  }
});

Deno.test("every new flag keeps determinism and exact resume", async (t) => {
  const dir = await tempDir(t);
  try {
    const full = await assertDeterministicAndResumable(dir, {
      ema: 0.99,
      gDropout: { start: 0.5, end: 0, curve: "cosine" },
      dDropout: { start: 0.5, end: 0.1, curve: "linear" },
      dEnsemble: 2,
      dEnsembleDrop: 0.5,
      realTarget: 0.9,
      gTopK: { start: 1, end: 0.5, curve: "linear" },
    });
    const { metadata } = await loadGenerator(full);
    assert.deepEqual(metadata.dropout, { generator: "0.5:0:cosine", discriminator: "0.5:0.1" });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a run with a schedule refuses a longer --steps on resume (it would match no run)", async (t) => {
  const dir = await tempDir(t);
  try {
    const quiet = { printer: quietPrinter().printer };
    const flags: Partial<TrainConfig> = { gDropout: { start: 0.5, end: 0, curve: "linear" } };
    await runTraining(smallConfig(`${dir}/s`, { ...flags, steps: 10 }), new Set(), quiet);
    await assert.rejects(
      runTraining(
        smallConfig(`${dir}/s`, { ...flags, steps: 20, resume: true }),
        new Set(["steps", "resume"]),
        quiet,
      ),
      (err: Error) =>
        err.message ===
          "--steps: 20 differs from the checkpoint's 10; a run with a schedule (--g-dropout 0.5:0) keeps its length on resume",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("top-k keeps the k fakes D rates most real", () => {
  const logits = tf.tensor2d([[3], [-1], [2], [0.5], [-4]]);
  assert.deepEqual(Array.from(topKMask(logits, 2).dataSync()), [1, 0, 1, 0, 0]);
  assert.deepEqual(Array.from(topKMask(logits, 5).dataSync()), [1, 1, 1, 1, 1]);
  logits.dispose();
});

Deno.test("top-k changes only G's update: D is untouched, G differs, and k = B is the plain GAN", () => {
  const plain = ganOf({});
  const all = ganOf({ gTopK: 1 });
  const half = ganOf({ gTopK: 0.5 });
  try {
    for (const gan of [plain, all, half]) gan.step(0);
    assert.deepEqual(values(all.gVars), values(plain.gVars), "fraction 1 is the plain GAN");
    assert.deepEqual(
      values(half.ds[0].variables),
      values(plain.ds[0].variables),
      "D's step comes first, unchanged",
    );
    assert.notDeepEqual(values(half.gVars), values(plain.gVars), "G learns from half the fakes");
  } finally {
    for (const gan of [plain, all, half]) gan.dispose();
  }
});

Deno.test("--aux-classifier (AC-GAN): D reads the image alone and learns to name real digits", () => {
  const gan = ganOf({ conditional: true, auxClassifier: 1, lr: 2e-3, dDropout: 0, gDropout: 0 });
  try {
    assert.deepEqual(gan.discriminator.inputs[0].shape, [null, 784], "no label in D's input");
    assert.deepEqual(gan.discriminator.outputs[0].shape, [null, 11], "real/fake + 10 digits");
    assert.deepEqual(gan.generator.inputs[0].shape, [null, 8 + 10], "G still gets the label");
    // D's class head, scored on batches it has not trained on (steps 1000..1003).
    const accuracy = () =>
      tf.tidy(() => {
        let right = 0;
        for (let s = 1000; s < 1004; s++) {
          const x = tf.tensor2d(gan.data.batch(s), [16, 784]);
          const logits = forward(gan.d, x, 0).output;
          const digits = tf.argMax(tf.slice(logits, [0, 1], [-1, 10]), 1).dataSync();
          gan.data.labels(s).forEach((label, i) => right += label === digits[i] ? 1 : 0);
        }
        return right / 64;
      });
    const before = accuracy();
    for (let s = 0; s < 80; s++) gan.step(s);
    const after = accuracy();
    assert.ok(before < 0.3, `an untrained head is near chance (${before})`);
    assert.ok(after > 0.5, `after 80 steps the head names most digits (${after})`);
  } finally {
    gan.dispose();
  }
});

Deno.test("--aux-classifier keeps determinism and exact resume", async (t) => {
  const dir = await tempDir(t);
  try {
    const full = await assertDeterministicAndResumable(dir, {
      conditional: true,
      auxClassifier: 0.5,
    });
    const { metadata } = await loadGenerator(full);
    assert.equal(metadata.hyperparameters?.auxClassifier, 0.5, "the metadata records it");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
