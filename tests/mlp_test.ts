import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { latentBatch, Rng } from "../random/seeded.ts";
import * as tfl from "@tensorflow/tfjs-layers";
import { initBackend } from "../tfjs/backend.ts";
import { predictLatents } from "../tfjs/generator_files.ts";
import { buildDiscriminator, buildGenerator, LEAKY_SLOPE } from "../nn/nets.ts";
import {
  backward,
  dropoutMask,
  forward,
  type Mlp,
  mlpOf,
  mlpOfModel,
  throughActivation,
  type Trace,
} from "../nn/mlp.ts";

await initBackend("wasm");

function maxRelativeDiff(a: tf.Tensor, b: tf.Tensor): number {
  const x = a.dataSync(), y = b.dataSync();
  let scale = 1e-12, worst = 0;
  for (let i = 0; i < y.length; i++) scale = Math.max(scale, Math.abs(y[i]));
  for (let i = 0; i < y.length; i++) worst = Math.max(worst, Math.abs(x[i] - y[i]) / scale);
  return worst;
}

/** The same network written with plain tfjs ops and the masks from `trace`, for autodiff. */
function reference(net: Mlp, x: tf.Tensor, trace: Trace): tf.Tensor {
  let h = x;
  net.layers.forEach(({ kernel, bias }, l) => {
    h = tf.add(tf.matMul(h, kernel), bias);
    if (l < net.layers.length - 1) {
      h = tf.leakyRelu(h, net.slope);
      if (trace.masks[l]) h = tf.mul(h, trace.masks[l]!);
    } else if (net.outActivation === "tanh") {
      h = tf.tanh(h);
    }
  });
  return h;
}

const nets = (dropout: number) => {
  const g = buildGenerator({
    inDim: 20,
    hidden: [48, 32],
    dropout,
    outDim: 30,
    outActivation: "tanh",
    seed: 3,
  });
  const d = buildDiscriminator({
    inDim: 30,
    hidden: [40, 24],
    dropout,
    outDim: 1,
    outActivation: "linear",
    seed: 4,
  });
  return {
    g: mlpOf(g, { dropout, slope: LEAKY_SLOPE, outActivation: "tanh" }),
    d: mlpOf(d, { dropout, slope: LEAKY_SLOPE, outActivation: "linear" }),
    dispose: () => {
      g.dispose();
      d.dispose();
    },
  };
};

for (const dropout of [0, 0.5]) {
  Deno.test(`hand-written backprop equals tfjs autodiff to 1e-5 through G and D (dropout ${dropout})`, () => {
    const { g, d, dispose } = nets(dropout);
    tf.tidy(() => {
      const z = tf.randomNormal([16, 20], 0, 1, "float32", 7) as tf.Tensor2D;
      const gTrace = forward(g, z, 11);
      const dTrace = forward(d, gTrace.output, 12);
      // The generator's loss: mean softplus(-D(G(z))).
      const dLogits = tf.div(tf.sub(tf.sigmoid(dTrace.output), 1), 16) as tf.Tensor2D;
      const { dInput, grads: dGrads } = backward(d, dTrace, dLogits, { input: true });
      const { grads: gGrads } = backward(g, gTrace, dInput!);

      const auto = tf.variableGrads(
        () => tf.mean(tf.softplus(tf.neg(reference(d, reference(g, z, gTrace), dTrace)))),
        [...g.variables, ...d.variables],
      );
      // Forward passes agree too.
      assert.ok(
        maxRelativeDiff(dTrace.output, reference(d, reference(g, z, gTrace), dTrace)) < 1e-5,
      );
      [...g.variables, ...d.variables].forEach((v, i) => {
        const mine = i < g.variables.length ? gGrads[i] : dGrads[i - g.variables.length];
        const diff = maxRelativeDiff(mine, auto.grads[v.name]);
        assert.ok(diff < 1e-5, `${v.name}: relative difference ${diff}`);
      });
    });
    dispose();
  });
}

Deno.test("dropout masks are repeatable per seed, zero at the rate, scaled by 1/(1-rate)", () => {
  tf.tidy(() => {
    const a = dropoutMask(64, 256, 0.25, 5).dataSync();
    assert.deepEqual(dropoutMask(64, 256, 0.25, 5).dataSync(), a);
    assert.notDeepEqual(dropoutMask(64, 256, 0.25, 6).dataSync(), a);
    const zeros = a.filter((v) => v === 0).length / a.length;
    assert.ok(Math.abs(zeros - 0.25) < 0.02, `zero fraction ${zeros}`);
    assert.ok(a.every((v) => v === 0 || Math.abs(v - 4 / 3) < 1e-6));
    // Entry i is dropped exactly when the i-th draw of Rng(seed) is below the rate.
    for (const seed of [5, 0xfffffff0]) {
      const rng = new Rng(seed);
      const expected = Array.from({ length: 1000 }, () => rng.nextFloat() < 0.25 ? 0 : 4 / 3);
      const got = Array.from(dropoutMask(10, 100, 0.25, seed).dataSync());
      assert.deepEqual(got, expected.map(Math.fround), `seed ${seed}`);
    }
  });
});

Deno.test("without input gradients the first layer's input gradient is skipped", () => {
  const { d, dispose } = nets(0);
  tf.tidy(() => {
    const x = tf.randomNormal([8, 30], 0, 1, "float32", 1) as tf.Tensor2D;
    const trace = forward(d, x, 1);
    const out = backward(d, trace, tf.onesLike(trace.output) as tf.Tensor2D);
    assert.equal(out.dInput, undefined);
    assert.equal(out.grads.length, d.variables.length);
    const noParams = backward(d, trace, tf.onesLike(trace.output) as tf.Tensor2D, {
      params: false,
      input: true,
    });
    assert.deepEqual(noParams.dInput!.shape, [8, 30]);
    assert.ok(noParams.grads.every((g) => g === undefined));
  });
  dispose();
});

Deno.test("the one-pass activation gradient equals the kernel path bit for bit", () => {
  tf.tidy(() => {
    // Positive, negative and exactly-zero inputs (a dropped unit reads 0).
    const x = tf.randomNormal([64, 128], 0, 1, "float32", 7);
    const input = tf.concat([x, tf.relu(x)], 1) as tf.Tensor2D;
    const mask = dropoutMask(64, 256, 0.5, 9);
    for (const m of [mask, undefined]) {
      const dOut = tf.randomNormal([64, 256], 0, 1, "float32", 8) as tf.Tensor2D;
      const expected = tf.mul(m ? tf.mul(dOut, m) : dOut, tf.step(input, 0.2)).dataSync();
      const got = throughActivation(tf.clone(dOut), input, m, 0.2).dataSync();
      assert.deepEqual(Array.from(got), Array.from(expected), m ? "with dropout" : "without");
    }
  });
});

Deno.test("inference runs a saved-format MLP through the training forward (equal to tfjs predict); other models fall back to tfjs", () => {
  const g = buildGenerator({
    inDim: 12,
    hidden: [32, 16],
    dropout: 0.5,
    outDim: 20,
    outActivation: "tanh",
    seed: 7,
  });
  const net = mlpOfModel(g)!;
  assert.equal(net.dropout, 0);
  assert.equal(net.slope, LEAKY_SLOPE);
  assert.equal(net.outActivation, "tanh");
  const inputs = latentBatch(3, 5, 12);
  const ours = predictLatents(g, inputs, 5, 12);
  const theirs = tf.tidy(() => (g.predict(tf.tensor2d(inputs, [5, 12])) as tf.Tensor).dataSync());
  for (let i = 0; i < ours.length; i++) assert.ok(Math.abs(ours[i] - theirs[i]) < 1e-6);
  // A model of another shape (here a Dense followed by batch norm) is not an MLP view.
  const other = tfl.sequential({
    layers: [
      tfl.layers.dense({ units: 8, inputShape: [4] }),
      tfl.layers.batchNormalization(),
    ],
  });
  assert.equal(mlpOfModel(other), undefined);
  const x = new Float32Array(8).fill(0.5);
  const viaTfjs = tf.tidy(() => (other.predict(tf.tensor2d(x, [2, 4])) as tf.Tensor).dataSync());
  assert.deepEqual(predictLatents(other, x, 2, 4), viaTfjs);
});
