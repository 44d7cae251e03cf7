import assert from "node:assert/strict";
import { initBackend } from "../models/backend.ts";
import { generate, inputSpec, loadGenerator } from "../models/generator.ts";

await initBackend("wasm");

Deno.test("the shipped models/mnist loads, verifies its weights hash and golden sample, and makes digits", async () => {
  // loadGenerator throws unless the weights hash and the golden sample both match.
  const { model, metadata } = await loadGenerator(
    new URL("../models/mnist", import.meta.url).pathname,
  );
  try {
    assert.equal(metadata.dataset, "mnist");
    assert.deepEqual(metadata.outputShape, [28, 28]);
    assert.deepEqual(metadata.dropout, { generator: 0.5, discriminator: 0.5 });
    assert.ok(metadata.steps >= 10_000, `trained for ${metadata.steps} steps`);
    // Digits are white strokes on black: most pixels near -1, a real fraction bright.
    const x = generate(model, inputSpec(metadata), 7, 16);
    const dark = x.filter((v) => v < -0.9).length / x.length;
    const bright = x.filter((v) => v > 0.5).length / x.length;
    assert.ok(dark > 0.6, `dark fraction ${dark}`);
    assert.ok(bright > 0.05 && bright < 0.35, `bright fraction ${bright}`);
  } finally {
    model.dispose();
  }
});

Deno.test("the shipped models/mnist-cond loads, verifies, and is conditional on digits 0-9", async () => {
  const { model, metadata } = await loadGenerator(
    new URL("../models/mnist-cond", import.meta.url).pathname,
  );
  try {
    assert.deepEqual(metadata.labels, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.deepEqual(model.inputs[0].shape, [null, 110]);
    const perLabel = metadata.metrics?.labelAccuracy as number[];
    assert.ok(perLabel.every((a) => a >= 0.95), `per-label accuracy ${perLabel}`);
  } finally {
    model.dispose();
  }
});
