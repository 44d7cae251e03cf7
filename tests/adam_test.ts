import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { initBackend } from "../models/backend.ts";
import { Adam } from "../train/adam.ts";

await initBackend("wasm");

Deno.test("Adam's in-place update equals the tfjs-ops update and PyTorch's formula", () => {
  const shapes = [[30, 20], [20], [1]];
  const make = () => shapes.map((s, i) => tf.variable(tf.randomNormal(s, 0, 1, "float32", i + 1)));
  const a = make(), b = make();
  const fast = new Adam(a, { lr: 0.01, beta1: 0.5 });
  const slow = new Adam(b, { lr: 0.01, beta1: 0.5, inPlace: false });
  for (let step = 0; step < 5; step++) {
    const grads = shapes.map((s, i) => tf.randomNormal(s, 0, 1, "float32", 100 * step + i + 1));
    fast.apply(grads);
    slow.apply(grads);
    tf.dispose(grads);
  }
  a.forEach((v, i) => {
    const x = v.dataSync(), y = b[i].dataSync();
    for (let j = 0; j < x.length; j++) {
      assert.ok(Math.abs(x[j] - y[j]) < 1e-5, `var ${i}[${j}]: ${x[j]} vs ${y[j]}`);
    }
  });
  // One step by hand: with m = v = 0, the first update is lr * g / (|g| + eps') = lr * sign(g).
  const w = tf.variable(tf.tensor1d([1, 1]));
  const one = new Adam([w], { lr: 0.1, beta1: 0.9 });
  one.apply([tf.tensor1d([3, -0.5])]);
  const got = w.dataSync();
  assert.ok(Math.abs(got[0] - 0.9) < 1e-6 && Math.abs(got[1] - 1.1) < 1e-6, `${got}`);
  tf.dispose([...a, ...b, w]);
  fast.dispose();
  slow.dispose();
  one.dispose();
});
