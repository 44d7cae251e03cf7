import assert from "node:assert/strict";
import { initBackend } from "../tfjs/backend.ts";
import { DenseNet, UnsupportedModelError } from "../engine/dense_net.ts";
import { loadRunner } from "../engine/runner.ts";
import { generate, loadGenerator } from "../tfjs/generator_files.ts";
import { generatorInputs, inputSpec } from "../format/generator_metadata.ts";
import { tempDir, trainTinyModel } from "./helpers.ts";
import { instantiateKernel } from "../engine/kernels/base64.ts";
import { DENSE_WASM } from "../engine/kernels/kernels.ts";

await initBackend("wasm");
const ROOT = new URL("..", import.meta.url).pathname;

function maxDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}

Deno.test("the server's engine equals tfjs predict to 1e-5 on the shipped and 2-D models", async () => {
  const dir = await tempDir("dense");
  try {
    await trainTinyModel(`${dir}/ring`, { dataset: "ring8", gHidden: [13, 7], latent: 5 });
    for (const path of ["models/mnist", "models/mnist-cond", `${dir}/ring`]) {
      const full = path.startsWith("models/") ? `${ROOT}/${path}` : path;
      const tfjs = await loadGenerator(full), edge = await loadRunner(full);
      const spec = inputSpec(tfjs.metadata);
      // Row counts around the kernel's 4-row blocks; the 2-D net has widths that are not
      // multiples of its 8-column blocks.
      for (const n of [1, 3, 4, 5, 64]) {
        const expected = generate(tfjs.model, spec, 11, n);
        const inputs = generatorInputs(spec, 11, n);
        const got = edge.predict(inputs, n);
        assert.ok(maxDiff(got, expected) < 1e-5, `${path} n=${n}: ${maxDiff(got, expected)}`);
        assert.deepEqual(edge.predict(inputs, n), got, "repeatable bit for bit");
      }
      tfjs.model.dispose();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a hand-built net: bias, LeakyReLU, ReLU, tanh, sigmoid and dropout as identity", () => {
  const dense = (name: string, units: number, activation: string, input?: number) => ({
    class_name: "Dense",
    config: {
      name,
      units,
      activation,
      use_bias: true,
      ...(input ? { batch_input_shape: [null, input] } : {}),
    },
  });
  const topology = {
    class_name: "Sequential",
    config: {
      layers: [
        dense("a", 3, "linear", 2),
        { class_name: "LeakyReLU", config: { name: "l", alpha: 0.5 } },
        { class_name: "Dropout", config: { name: "d", rate: 0.9 } },
        dense("b", 2, "relu"),
        dense("c", 2, "tanh"),
        dense("e", 1, "sigmoid"),
      ],
    },
  };
  const w = {
    "a/kernel": [[1, -1, 0], [2, 0, -3]],
    "a/bias": [0, 1, -1],
    "b/kernel": [[1, 0], [0, 1], [1, 1]],
    "b/bias": [-1, 0],
    "c/kernel": [[1, 0], [0, 1]],
    "c/bias": [0, 0.5],
    "e/kernel": [[1], [-1]],
    "e/bias": [0.25],
  };
  const specs = Object.entries(w).map(([name, v]) => ({
    name,
    shape: Array.isArray(v[0]) ? [v.length, (v[0] as number[]).length] : [v.length],
    dtype: "float32",
  }));
  const bytes = new Uint8Array(new Float32Array(Object.values(w).flat(2) as number[]).buffer);
  const net = DenseNet.fromLayers(topology, specs, bytes);
  const leaky = (x: number) => (x > 0 ? x : 0.5 * x);
  const reference = ([x0, x1]: number[]) => {
    const a = [x0 + 2 * x1, -x0 + 1, -3 * x1 - 1].map(leaky);
    const b = [Math.max(0, a[0] + a[2] - 1), Math.max(0, a[1] + a[2])];
    const c = [Math.tanh(b[0]), Math.tanh(b[1] + 0.5)];
    return 1 / (1 + Math.exp(-(c[0] - c[1] + 0.25)));
  };
  const rows = [[0.5, -1], [2, 0.25], [-3, 1], [0, 0], [1, 1]];
  const out = net.predict(new Float32Array(rows.flat()), rows.length);
  rows.forEach((row, i) => assert.ok(Math.abs(out[i] - reference(row)) < 1e-6, `row ${i}`));
  assert.equal(net.inDim, 2);
  assert.equal(net.outDim, 1);

  // What it cannot run, it says.
  const bad = (layers: unknown[]) => () =>
    DenseNet.fromLayers({ class_name: "Sequential", config: { layers } }, specs, bytes);
  assert.throws(bad([{ class_name: "Conv2D", config: {} }]), UnsupportedModelError);
  assert.throws(bad([dense("a", 3, "softmax", 2)]), /activation "softmax" is not supported/);
  assert.throws(
    () => DenseNet.fromLayers(topology, specs, bytes.subarray(0, 20)),
    /weights end before/,
  );
  assert.throws(() => net.predict(new Float32Array(3), 2), RangeError);
});

Deno.test("the engine's tanh is within 1e-6 of Math.tanh from -20 to 20, and exact at 0", () => {
  const memory = new WebAssembly.Memory({ initial: 1 });
  const { tanh } = instantiateKernel(DENSE_WASM, memory)! as {
    tanh: (at: number, count: number) => void;
  };
  const count = 8192;
  const heap = new Float32Array(memory.buffer, 0, count);
  for (let i = 0; i < count; i++) heap[i] = -20 + (40 * i) / (count - 1);
  const inputs = heap.slice();
  tanh(0, count);
  let worst = 0;
  for (let i = 0; i < count; i++) worst = Math.max(worst, Math.abs(heap[i] - Math.tanh(inputs[i])));
  assert.ok(worst < 1e-6, `worst error ${worst}`);
  heap.set([0, -0, 1e-30, NaN]);
  tanh(0, 4);
  assert.deepEqual([heap[0], heap[2] > 0, Number.isNaN(heap[3])], [0, true, true]);
});
