/**
 * The WebAssembly kernels: the committed bytes are what wabt makes of the .wat sources, and the
 * Dense engine's one-row and four-row kernels compute a row identically.
 */
import assert from "node:assert/strict";
import { compileKernels, kernelsModule } from "../engine/kernels/build.ts";
import { DenseNet } from "../engine/dense_net.ts";
import { readModelJson, readWeights } from "../format/model_files.ts";
import { checkMetadata } from "../format/generator_metadata.ts";
import { latentBatch } from "../random/seeded.ts";

const ROOT = new URL("..", import.meta.url).pathname;

Deno.test("kernels.ts holds exactly what wabt compiles from the .wat sources", async () => {
  const committed = await Deno.readTextFile(`${ROOT}/engine/kernels/kernels.ts`);
  assert.equal(committed, kernelsModule(await compileKernels()), "run: deno task kernels");
});

Deno.test("a sample does not depend on its batch: one row at a time equals four at a time, bit for bit", async () => {
  const dir = `${ROOT}/models/mnist`;
  const json = await readModelJson(`${dir}/model.json`, checkMetadata);
  const net = DenseNet.fromLayers(
    json.modelTopology,
    json.weightsManifest.flatMap((g) => g.weights),
    await readWeights(dir, json),
  );
  const n = 9; // two groups of four, then one row
  const z = latentBatch(31, n, net.inDim);
  const batch = net.predict(z, n);
  for (let i = 0; i < n; i++) {
    const one = net.predict(z.subarray(i * net.inDim, (i + 1) * net.inDim), 1);
    assert.deepEqual(one, batch.subarray(i * net.outDim, (i + 1) * net.outDim), `row ${i}`);
  }
  assert.deepEqual(net.predict(z.subarray(0, 6 * net.inDim), 6), batch.subarray(0, 6 * net.outDim));
});
