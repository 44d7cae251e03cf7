/**
 * `deno task eval` on a 2-D run: the PacGAN protocol for the saved generator and, where it is a
 * weight average with the run's final checkpoint beside it, for G's own weights too.
 */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { initBackend } from "../tfjs/backend.ts";
import { generate, loadGenerator } from "../tfjs/generator_files.ts";
import { inputSpec } from "../format/generator_metadata.ts";
import { loadCheckpoint } from "../train/checkpoint.ts";
import { MIXTURES } from "../datasets/mixtures.ts";
import { pacganMetrics } from "../eval/metrics.ts";
import { EVAL_SEED } from "../eval/main.ts";
import { runDeno, tempDir, trainTinyModel } from "./helpers.ts";

await initBackend("wasm");

const evalRun = (dir: string) => runDeno(["run", "--allow-all", "eval/main.ts", "--model", dir]);
const metricsOf = async (dir: string) =>
  JSON.parse(await Deno.readTextFile(`${dir}/model.json`)).userDefinedMetadata.edgegan.metrics;

Deno.test("deno task eval scores a 2-D run's raw G beside its weight average, from the final checkpoint", async (t) => {
  const dir = await tempDir(t);
  try {
    // A slow average over 30 steps stays near the initial G, so the two generators differ.
    const out = `${dir}/ring8`;
    await trainTinyModel(out, { dataset: "ring8", steps: 30, ema: 0.99, snapshotEvery: 10 });
    const res = await evalRun(out);
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /G without the weight average \(the checkpoint\): modes \d+\/8/);
    const m = await metricsOf(out);
    // The raw numbers are the protocol on the checkpoint's G, computed here independently.
    const loaded = await loadGenerator(out);
    const checkpoint = await loadCheckpoint(out);
    const shapes = loaded.model.getWeights().map((w) => w.shape);
    tf.tidy(() =>
      loaded.model.setWeights(
        shapes.map((shape, i) => tf.tensor(checkpoint.tensors[`G/${i}`].values, shape)),
      )
    );
    const points = generate(loaded.model, inputSpec(loaded.metadata), EVAL_SEED, 2500);
    loaded.model.dispose();
    const raw = pacganMetrics(points, MIXTURES.ring8);
    assert.equal(m.rawModes, raw.modes);
    assert.equal(m.rawHighQuality, Math.round(raw.highQuality * 1e4) / 1e4);
    assert.equal(m.rawReverseKl, Math.round(raw.reverseKl * 1e4) / 1e4);
    assert.notEqual(m.rawReverseKl, m.reverseKl, "the average and G draw different points");
    // A snapshot has no checkpoint of its own step: only the saved generator is scored.
    const snapshot = `${out}/snapshots/step-0000010`;
    const snap = await evalRun(snapshot);
    assert.equal(snap.code, 0, snap.stderr);
    assert.doesNotMatch(snap.stdout, /without the weight average/);
    assert.equal((await metricsOf(snapshot)).rawModes, undefined);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
