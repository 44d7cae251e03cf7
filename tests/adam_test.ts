import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { float32View, initBackend, wasmMemory } from "../tfjs/backend.ts";
import { adamKernel } from "../nn/adam_simd.ts";
import { Adam } from "../nn/adam.ts";

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

Deno.test("the WASM SIMD Adam kernel and its JavaScript tail agree bit for bit", () => {
  const memory = wasmMemory();
  assert.ok(memory, "the wasm backend exposes its memory");
  const kernel = adamKernel(memory!);
  assert.ok(kernel, "WASM SIMD compiles here");
  // Run the same 4 values through a SIMD lane (n = 8) and through the tail (offset by one
  // element so they land in the last n % 4 positions); the results must be identical.
  const values = {
    w: [0.5, -1.25, 3, 1e-3],
    g: [0.1, -2, 1e-6, 0],
    m: [0.2, -0.1, 0, 5],
    v: [0.01, 4, 0, 1e-9],
  };
  const c = {
    b1: 0.5,
    b2: 0.999,
    step: 2e-4 / 0.75,
    inv: 1 / Math.sqrt(1 - 0.999 ** 2),
    eps: 1e-8,
  };
  const run = (n: number, at: number) => {
    const arrays = (["w", "g", "m", "v"] as const).map((k) => {
      const a = new Float32Array(n);
      a.set(values[k], at);
      return tf.tensor1d(a);
    });
    const out = tf.zeros([n]);
    const [w, g, m, v] = arrays.map((t) => float32View(t)!.byteOffset);
    kernel!({ w, g, m, v, out: float32View(out)!.byteOffset }, n, c);
    const result = [out, arrays[2], arrays[3]].map((t) =>
      Array.from(t.dataSync().slice(at, at + 4))
    );
    tf.dispose([...arrays, out]);
    return result;
  };
  const simd = run(8, 0), tail = run(7, 3);
  // positions 3..6 of a 7-vector: 3 in a SIMD lane, 4..6 in the tail; compare the tail ones.
  assert.deepEqual(tail.map((r) => r.slice(1)), simd.map((r) => r.slice(1)));
  // And the float64 formula to float32 precision.
  const b1 = 0.5, b2 = 0.999;
  for (let j = 0; j < 4; j++) {
    const m = b1 * values.m[j] + (1 - b1) * values.g[j];
    const v = b2 * values.v[j] + (1 - b2) * values.g[j] ** 2;
    const w = values.w[j] - c.step * m / (Math.sqrt(v) * c.inv + c.eps);
    assert.ok(Math.abs(simd[0][j] - w) <= 1e-6 * Math.max(1, Math.abs(w)), `w[${j}]`);
    assert.ok(Math.abs(simd[1][j] - m) <= 1e-6 * Math.max(1, Math.abs(m)), `m[${j}]`);
  }
});
