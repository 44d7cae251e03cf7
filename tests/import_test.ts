/**
 * Any tfjs Layers generator: a DCGAN-style model built in tfjs (Dense → BatchNorm → Dropout →
 * Reshape → Conv2DTranspose → BatchNorm → Conv2DTranspose, tanh) is imported with
 * `deno task import`, served by a real server on the tfjs engine, and its samples equal tfjs
 * `predict`. What edgegan cannot serve is refused with one line.
 */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import { initBackend } from "../tfjs/backend.ts";
import { loadRunner } from "../engine/runner.ts";
import { generatorInputs } from "../format/generator_metadata.ts";
import { importGenerator } from "../tfjs/import.ts";
import { toPixels } from "../image/pixels.ts";
import { runDeno, startServer, taskArgs, tempDir } from "./helpers.ts";

await initBackend("wasm");
const ROOT = new URL("..", import.meta.url).pathname;
const NAME = `test-tmp-dcgan-${crypto.randomUUID().slice(0, 8)}`;
const foreign = await tempDir("import");

Deno.test.afterAll(async () => {
  await Deno.remove(`${ROOT}/models/${NAME}`, { recursive: true }).catch(() => {});
  await Deno.remove(foreign, { recursive: true });
});

/** Seeded, non-trivial weights (BatchNorm variances kept positive) so every layer matters. */
function randomise(model: tfl.LayersModel, seed: number): void {
  model.setWeights(model.weights.map((w, i) => {
    const values = tf.randomNormal(w.shape as number[], 0, 0.3, "float32", seed + i);
    return /moving_variance|gamma/.test(w.name) ? tf.add(tf.abs(values), 0.5) : values;
  }));
}

function dcgan(): tfl.Sequential {
  const model = tfl.sequential({
    layers: [
      tfl.layers.dense({ inputShape: [8], units: 7 * 7 * 4, useBias: false }),
      tfl.layers.batchNormalization(),
      tfl.layers.leakyReLU({ alpha: 0.2 }),
      tfl.layers.dropout({ rate: 0.5 }),
      tfl.layers.reshape({ targetShape: [7, 7, 4] }),
      tfl.layers.conv2dTranspose({ filters: 4, kernelSize: 3, strides: 2, padding: "same" }),
      tfl.layers.batchNormalization(),
      tfl.layers.reLU(),
      tfl.layers.conv2dTranspose({
        filters: 1,
        kernelSize: 3,
        strides: 2,
        padding: "same",
        activation: "tanh",
      }),
    ],
  });
  randomise(model, 5);
  return model;
}

type Topology = { config: { layers: { class_name: string }[] } };

/** Saves `model` as a foreign tfjs client would: model.json plus one weights shard beside it. */
async function saveForeign(
  model: tfl.LayersModel,
  dir: string,
  edit?: (topology: Topology) => void,
) {
  await Deno.mkdir(dir, { recursive: true });
  await model.save(tf.io.withSaveHandler(async (artifacts) => {
    const json = {
      format: "layers-model",
      generatedBy: "a test",
      modelTopology: artifacts.modelTopology,
      weightsManifest: [{ paths: ["group1-shard1of1.bin"], weights: artifacts.weightSpecs }],
    };
    edit?.(json.modelTopology as Topology);
    await Deno.writeTextFile(`${dir}/model.json`, JSON.stringify(json));
    const data = tf.io.concatenateArrayBuffers(artifacts.weightData!);
    await Deno.writeFile(`${dir}/group1-shard1of1.bin`, new Uint8Array(data));
    return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
  }));
  return `${dir}/model.json`;
}

const model = dcgan();
const from = await saveForeign(model, `${foreign}/dcgan`);
const SEED = 77;
const N = 3;
const latents = generatorInputs({ size: 8, classes: 0 }, SEED, N);
const expected = tf.tidy(() =>
  (model.predict(tf.tensor2d(latents, [N, 8])) as tf.Tensor).dataSync() as Float32Array
);

Deno.test("deno task import copies a DCGAN generator into models/ with shapes, range and a golden sample", async () => {
  const out = await runDeno([...taskArgs("import"), "--from", from, "--name", NAME]);
  assert.equal(out.code, 0, out.stderr);
  assert.match(out.stdout, new RegExp(`as models/${NAME}: latent 8, output \\[28,28\\]`));
  const json = JSON.parse(await Deno.readTextFile(`${ROOT}/models/${NAME}/model.json`));
  const meta = json.userDefinedMetadata.edgegan;
  assert.deepEqual(
    [meta.name, meta.latent.size, meta.outputShape, meta.outputRange, meta.dropout.generator],
    [NAME, 8, [28, 28], [-1, 1], 0.5],
  );
  assert.equal(meta.golden.values.length, 2 * 784);
  // Importing over an existing model needs --force.
  const again = await runDeno([...taskArgs("import"), "--from", from, "--name", NAME]);
  assert.equal(again.code, 2);
  assert.equal(
    again.stderr.trim(),
    `error: --name: models/${NAME} exists; choose another name or pass --force`,
  );
});

Deno.test("the imported model runs on the tfjs engine and its samples equal tfjs predict", async () => {
  const runner = await loadRunner(`${ROOT}/models/${NAME}`);
  assert.match(runner.engine, /^tfjs-wasm-/);
  assert.deepEqual(Array.from(runner.predict(latents, N)), Array.from(expected));
});

Deno.test("a real server serves the imported DCGAN: /sample equals tfjs predict, dropout off, /models names the engine", async () => {
  const server = await startServer(`models/${NAME}`);
  try {
    const get = (path: string) => fetch(`${server.base}${path}`).then((r) => r.json());
    const body = await get(`/sample?seed=${SEED}&n=${N}`);
    assert.deepEqual(body.samples.flat(2), Array.from(toPixels(expected)));
    // Dropout in the model is off: training mode (dropout on) would give other pixels.
    const training = tf.tidy(() =>
      (model.apply(tf.tensor2d(latents, [N, 8]), { training: true }) as tf.Tensor)
        .dataSync() as Float32Array
    );
    assert.notDeepEqual(body.samples.flat(2), Array.from(toPixels(training)));
    const models = await get("/models");
    assert.match(models.models[0].engine, /^tfjs-wasm-/);
    const png = await fetch(`${server.base}/sample?seed=1&n=4&format=png`);
    assert.equal(png.headers.get("content-type"), "image/png");
    await png.body?.cancel();
  } finally {
    await server.stop();
  }
});

Deno.test("import refuses what it cannot serve: two inputs, a non-image output, an unknown layer", async () => {
  const a = tfl.input({ shape: [4] });
  const b = tfl.input({ shape: [4] });
  const joined = tfl.layers.dense({ units: 2 }).apply(
    tfl.layers.concatenate().apply([a, b]),
  ) as tfl.SymbolicTensor;
  const twoInputs = await saveForeign(
    tfl.model({ inputs: [a, b], outputs: joined }),
    `${foreign}/two`,
  );
  const wide = tfl.sequential({ layers: [tfl.layers.dense({ inputShape: [4], units: 5 })] });
  const fiveWide = await saveForeign(wide, `${foreign}/five`);
  const unknown = await saveForeign(model, `${foreign}/unknown`, (topology) => {
    topology.config.layers[4].class_name = "FancyReshape";
  });
  const cases: [string, RegExp][] = [
    [twoInputs, /^the model has 2 inputs; edgegan serves generators with one latent input$/],
    [fiveWide, /^output shape \[null,5\] is neither a grey image .* nor a 2-D point \[null, 2\]$/],
    [unknown, /: unknown layer FancyReshape; edgegan serves the layers tfjs-layers knows$/],
  ];
  for (const [path, message] of cases) {
    await assert.rejects(importGenerator({ from: path, name: "refused", modelsDir: foreign }), {
      message,
    });
  }
  // The CLI turns a refusal into one line and a non-zero exit, and writes nothing.
  const out = await runDeno([...taskArgs("import"), "--from", fiveWide, "--name", "refused"]);
  assert.equal(out.code, 1);
  assert.equal(out.stderr.trim().split("\n").length, 1);
  assert.match(out.stderr, /^error: output shape \[null,5\]/);
  assert.equal(await Deno.stat(`${ROOT}/models/refused`).then(() => true, () => false), false);
  const bad = await runDeno([
    ...taskArgs("import"),
    "--from",
    from,
    "--name",
    "x",
    "--range",
    "1,-1",
  ]);
  assert.equal(bad.code, 2);
  assert.equal(
    bad.stderr.trim(),
    'error: --range: got "1,-1"; accepts LO,HI with LO < HI (e.g. -1,1), or none',
  );
});
