/**
 * The fused training step (train/fused.ts) against the tfjs step it replaces for small nets:
 * the same training to float rounding, deterministic, and exactly resumable.
 */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { initBackend } from "../tfjs/backend.ts";
import { parseTrainArgs, type TrainConfig } from "../train/config.ts";
import { UsageError } from "../cli/flags.ts";
import { FusedGan, resolveEngine } from "../train/fused.ts";
import { Gan, RealData } from "../train/gan.ts";
import { assertDeterministicAndResumable, smallConfig, tempDir } from "./helpers.ts";

await initBackend("wasm");

const values = (vars: tf.Tensor[]) => vars.map((v) => Float32Array.from(v.dataSync()));

/** The largest |a - b| / (1 + |b|) over every weight of two lists of tensors. */
function maxRelDiff(a: Float32Array[], b: Float32Array[]): number {
  let worst = 0;
  a.forEach((x, i) =>
    x.forEach((v, j) => worst = Math.max(worst, Math.abs(v - b[i][j]) / (1 + Math.abs(b[i][j]))))
  );
  return worst;
}

const TWO_D: Partial<TrainConfig> = {
  dataset: "grid25",
  latent: 2,
  gHidden: [64, 64],
  dHidden: [64, 64],
  batch: 32,
};

Deno.test("the fused step trains like the tfjs step, with and without clusters: the same weights after 10 steps, to float rounding", () => {
  for (
    const flags of [
      { gDropout: 0.5, dDropout: 0.5, ema: 0.9 },
      { gDropout: 0, dDropout: 0.25, pack: 2, realTarget: 0.9, lrDecay: "linear" as const },
      // Self-conditioned: G's noise and D's input carry the cluster's one-hot code.
      { gDropout: 0, dDropout: 0.25, selfCondition: 6, ema: 0.9 },
      { gDropout: 0.25, dDropout: 0, selfCondition: 4, pack: 2 },
      // Dropout-GAN: three discriminators, each dropped from G's feedback half the time.
      { gDropout: 0, dDropout: 0.25, dEnsemble: 3, dEnsembleDrop: 0.5, pack: 2, ema: 0.9 },
    ]
  ) {
    const config = smallConfig("models/unused", { ...TWO_D, ...flags });
    const plain = new Gan(config, new RealData(config));
    const fused = new FusedGan(config, new RealData(config));
    try {
      for (let s = 0; s < 10; s++) {
        const [a, b] = [plain.step(s), fused.step(s)];
        assert.ok(Math.abs(a.dLoss - b.dLoss) < 1e-4, `step ${s} dLoss ${a.dLoss} vs ${b.dLoss}`);
        assert.ok(Math.abs(a.gLoss - b.gLoss) < 1e-4, `step ${s} gLoss ${a.gLoss} vs ${b.gLoss}`);
      }
      fused.sync();
      // Products summed in another order differ in the last bits (measured: ~2e-8 after 10
      // steps, while training moved the weights by ~2e-3).
      const g = maxRelDiff(values(fused.gVars), values(plain.gVars));
      const d = Math.max(
        ...plain.ds.map((net, k) =>
          maxRelDiff(values(fused.ds[k].variables), values(net.variables))
        ),
      );
      assert.ok(g < 1e-6 && d < 1e-6, `G ${g}, D ${d}`);
      assert.ok(maxRelDiff(fused.ema ?? [], plain.ema ?? []) < 1e-6, "the average too");
      const start = new FusedGan(config, new RealData(config));
      assert.ok(maxRelDiff(values(start.gVars), values(plain.gVars)) > 1e-3, "training moved G");
      start.dispose();
      assert.equal(fused.gAdam.t, 10);
    } finally {
      plain.dispose();
      fused.dispose();
    }
  }
});

Deno.test("fused training is deterministic and resumes exactly", async (t) => {
  const dir = await tempDir(t);
  try {
    await assertDeterministicAndResumable(dir, {
      ...TWO_D,
      engine: "fused",
      ema: 0.99,
      gDropout: { start: 0.5, end: 0, curve: "linear" },
    });
    await assertDeterministicAndResumable(`${dir}/clusters`, {
      ...TWO_D,
      engine: "fused",
      ema: 0.99,
      selfCondition: 5,
    });
    await assertDeterministicAndResumable(`${dir}/ensemble`, {
      ...TWO_D,
      engine: "fused",
      dEnsemble: 2,
      dEnsembleDrop: 0.5,
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("--engine auto picks the fused step for 2-D data only; fused refuses what it cannot do", () => {
  const engine = (argv: string[]) => resolveEngine(parseTrainArgs(argv).config);
  assert.equal(engine(["--dataset", "grid25"]), "fused");
  assert.equal(engine(["--dataset", "grid25", "--d-ensemble", "2"]), "fused");
  assert.equal(engine(["--dataset", "grid25", "--self-condition", "100"]), "fused");
  assert.equal(
    engine(["--dataset", "grid25", "--self-condition", "10", "--aux-classifier", "1"]),
    "tfjs",
  );
  assert.equal(engine([]), "tfjs");
  assert.equal(engine(["--engine", "fused", "--self-condition", "0"]), "fused");
  assert.throws(
    () => parseTrainArgs(["--dataset", "ring8", "--engine", "fused", "--g-top-k", "0.5"]),
    (err: Error) =>
      err instanceof UsageError &&
      err.message === "--engine: fused does not support --g-top-k; use tfjs or auto",
  );
});
