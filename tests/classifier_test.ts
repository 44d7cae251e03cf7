import assert from "node:assert/strict";
import { initBackend } from "../tfjs/backend.ts";
import { accuracy, classify, loadClassifier } from "../eval/classifier.ts";
import { loadMnist, toUnitRange } from "../datasets/mnist.ts";

await initBackend("wasm");

Deno.test("the shipped classifier reaches at least 98.5% on the MNIST test set", async () => {
  const classifier = await loadClassifier();
  try {
    const test = await loadMnist("test");
    const { probs, features } = classify(classifier, toUnitRange(test.images), test.count);
    const acc = accuracy(probs, test.labels);
    assert.ok(acc >= 0.985, `test accuracy ${acc}`);
    assert.equal(
      acc,
      classifier.metadata!.testAccuracy,
      "matches the accuracy recorded at training",
    );
    assert.equal(features.length, test.count * classifier.metadata!.featureSize);
  } finally {
    classifier.model.dispose();
  }
});
