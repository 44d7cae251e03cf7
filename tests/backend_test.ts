import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
// tfjs-layers registers the gradient functions the trainer uses.
import "@tensorflow/tfjs-layers";
import { initBackend, setFastTransposedMatMul, TFJS_WRITTEN_FOR } from "../tfjs/backend.ts";

const info = await initBackend("wasm");

Deno.test("the tfjs internals are used with the tfjs release they were read from", async () => {
  assert.equal(tf.version_core, TFJS_WRITTEN_FOR);
  const config = JSON.parse(await Deno.readTextFile(new URL("../deno.json", import.meta.url)));
  for (const [name, target] of Object.entries(config.imports as Record<string, string>)) {
    if (name.startsWith("@tensorflow/")) assert.ok(target.endsWith(`@${TFJS_WRITTEN_FOR}`), target);
  }
});

Deno.test("the wasm backend runs with SIMD and the transposed-matMul fix", () => {
  assert.equal(tf.getBackend(), "wasm");
  assert.equal(info.simd, true);
  assert.equal(info.fastTransposedMatMul, true);
});

function maxRelativeDiff(a: Float32Array, b: Float32Array): number {
  let scale = 0, worst = 0;
  for (let i = 0; i < a.length; i++) scale = Math.max(scale, Math.abs(b[i]));
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]) / scale);
  return worst;
}

function withPath<T>(fast: boolean, fn: () => T): T {
  setFastTransposedMatMul(fast);
  try {
    return fn();
  } finally {
    setFastTransposedMatMul(true);
  }
}

Deno.test("transposed matMul equals the stock kernel for every transpose combination and rank", () => {
  const before = tf.memory().numTensors;
  for (
    const [aShape, bShape, tA, tB] of [
      [[64, 100], [100, 256], false, false],
      [[100, 64], [100, 256], true, false],
      [[64, 100], [256, 100], false, true],
      [[256, 100], [64, 100], false, true],
      [[1, 100], [784, 100], false, true],
      [[100, 64], [256, 100], true, true],
      [[3, 20, 7], [3, 9, 20], true, true],
    ] as [number[], number[], boolean, boolean][]
  ) {
    tf.tidy(() => {
      const a = tf.randomNormal(aShape, 0, 1, "float32", 1);
      const b = tf.randomNormal(bShape, 0, 1, "float32", 2);
      const fast = tf.matMul(a, b, tA, tB).dataSync() as Float32Array;
      const stock = withPath(false, () => tf.matMul(a, b, tA, tB).dataSync() as Float32Array);
      assert.ok(maxRelativeDiff(fast, stock) < 1e-5, `${aShape} x ${bShape} tA=${tA} tB=${tB}`);
    });
  }
  assert.equal(tf.memory().numTensors, before, "the override must not leak tensors");
});

Deno.test("Dense-layer gradients through the fix equal the stock path to 1e-5", () => {
  tf.tidy(() => {
    const x = tf.randomNormal([64, 784], 0, 1, "float32", 3);
    const w = tf.randomNormal([784, 256], 0, 0.05, "float32", 4);
    const bias = tf.randomNormal([256], 0, 0.05, "float32", 5);
    const f = (x: tf.Tensor, w: tf.Tensor, bias: tf.Tensor) =>
      tf.sum(tf.square(tf.fused.matMul({ a: x, b: w, bias, activation: "relu" })));
    const grads = (fast: boolean) =>
      withPath(fast, () => tf.grads(f)([x, w, bias]).map((g) => g.dataSync() as Float32Array));
    const fast = grads(true), stock = grads(false);
    for (let i = 0; i < 3; i++) {
      assert.ok(maxRelativeDiff(fast[i], stock[i]) < 1e-5, `gradient ${i}`);
    }
  });
});
