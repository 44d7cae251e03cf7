/**
 * The WebAssembly kernels: the committed bytes are what wabt makes of the .wat sources, and the
 * Dense engine's one-row and four-row kernels compute a row identically, and the training
 * kernels that replaced JavaScript loops (dropout masks, the activation gradient, the weight
 * average) give the same floats bit for bit.
 */
import assert from "node:assert/strict";
import { compileKernels, kernelsModule } from "../engine/kernels/build.ts";
import { DenseNet } from "../engine/dense_net.ts";
import { readModelJson, readWeights } from "../format/model_files.ts";
import { checkMetadata } from "../format/generator_metadata.ts";
import { latentBatch } from "../random/seeded.ts";
import { instantiateKernel } from "../engine/kernels/base64.ts";
import { GEMM_WASM } from "../engine/kernels/kernels.ts";
import { fillDropoutMask } from "../nn/mlp.ts";
import { updateMovingAverage } from "../train/gan.ts";

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

/** One export of the training kernels (gemm.wat), instantiated on a fresh memory of `pages`. */
function trainingKernel(name: string, pages = 1) {
  const memory = new WebAssembly.Memory({ initial: pages });
  const kernel = instantiateKernel(GEMM_WASM, memory)![name] as (...args: number[]) => void;
  return { kernel, buffer: memory.buffer };
}

Deno.test("the training dropout kernel draws fillDropoutMask's masks and applies them, bit for bit", () => {
  const { kernel: dropout, buffer } = trainingKernel("dropout", 2);
  const heap = new Float32Array(buffer);
  // Widths with and without a tail after the last group of four; padded rows; seeds that wrap.
  for (const [rows, cols, stride] of [[64, 256, 256], [5, 13, 16], [3, 2, 8], [7, 100, 104]]) {
    for (const rate of [0.25, 0.5, 0.1, 1 / 3, 0.9]) {
      for (const seed of [0, 12345, 0xfffffff0]) {
        const n = rows * stride;
        const h = Float32Array.from({ length: n }, (_, i) => Math.fround(Math.sin(i) * 3));
        heap.fill(7, 0, n); // the padding must be left alone
        heap.set(h, n);
        dropout(0, 4 * n, rows, cols, 4 * stride, seed, Math.ceil(rate * 2 ** 32), 1 / (1 - rate));
        const mask = new Float32Array(n).fill(7);
        fillDropoutMask(mask, rows, cols, rate, seed, stride);
        const what = `${rows}x${cols} rate ${rate} seed ${seed}`;
        assert.deepEqual(heap.slice(0, n), mask, `mask ${what}`);
        const applied = h.map((v, i) => i % stride < cols ? v * mask[i] : v);
        assert.deepEqual(heap.slice(n, 2 * n), applied, `output ${what}`);
        if (rows * cols >= 60) {
          assert.ok(mask.includes(0) && mask.some((v) => v > 1), `${what} drops some units`);
        }
      }
    }
  }
});

Deno.test("the training LeakyReLU-and-dropout gradient kernel rounds as the JavaScript does, bit for bit", () => {
  const { kernel: backward, buffer } = trainingKernel("leaky_backward");
  const heap = new Float32Array(buffer);
  const n = 64, slope = Math.fround(0.2);
  const g = Float32Array.from({ length: n }, (_, i) => Math.fround(Math.sin(i * 1.7) * 5));
  // Outputs above, at and below zero, and NaN; a mask of kept (scaled) and dropped units.
  const x = Float32Array.from({ length: n }, (_, i) => [1.5, 0, -0.3, NaN, -0, 2e-38][i % 6]);
  const m = Float32Array.from({ length: n }, (_, i) => i % 3 === 0 ? 0 : Math.fround(4 / 3));
  for (const dropped of [0, 1]) {
    heap.set(g, 0);
    heap.set(x, n);
    heap.set(m, 2 * n);
    backward(0, 4 * n, 8 * n, n, slope, dropped);
    const want = Float32Array.from(g, (v, i) => {
      const through = dropped ? Math.fround(v * m[i]) : v;
      return x[i] > 0 ? through : through * slope;
    });
    assert.deepEqual(heap.slice(0, n), want, dropped ? "with dropout" : "without");
  }
});

Deno.test("the training weight-average kernel rounds as updateMovingAverage does, bit for bit", () => {
  const { kernel: average, buffer } = trainingKernel("moving_average");
  const heap = new Float32Array(buffer);
  const n = 256;
  const start = Float32Array.from({ length: n }, (_, i) => Math.fround(Math.cos(i) * 0.3));
  const w = Float32Array.from({ length: n }, (_, i) => Math.fround(Math.sin(i * 0.37) * 1e-3));
  for (const decay of [0.999, 0.9, 0.5, 0]) {
    heap.set(start, 0);
    heap.set(w, n);
    const want = start.slice();
    for (let step = 0; step < 3; step++) {
      average(0, 4 * n, n, decay, 1 - decay);
      updateMovingAverage(want, w, decay);
    }
    assert.deepEqual(heap.slice(0, n), want, `decay ${decay}`);
  }
});

Deno.test("the training transpose moves every word, in blocks of four or one at a time", () => {
  const { kernel: transpose, buffer } = trainingKernel("transpose");
  const words = new Uint32Array(buffer);
  // Blocks of 4 x 4 (both sides multiples of 4) and the word-by-word path (a side of 2 or 6);
  // destination rows padded past the source's row count.
  for (const [rows, cols, dstWords] of [[8, 16, 12], [2, 8, 4], [6, 8, 8], [4, 4, 4]]) {
    const src = Uint32Array.from({ length: rows * cols }, (_, i) => 0x7fc00000 + i * 7919);
    const dst = 4096;
    words.fill(0xdeadbeef, 0, 8192);
    words.set(src, 0);
    transpose(0, 4 * dst, rows, cols, 4 * dstWords);
    for (let j = 0; j < cols; j++) {
      for (let i = 0; i < dstWords; i++) {
        const want = i < rows ? src[i * cols + j] : 0xdeadbeef;
        assert.equal(words[dst + j * dstWords + i], want, `${rows}x${cols}: [${j}][${i}]`);
      }
    }
  }
});
