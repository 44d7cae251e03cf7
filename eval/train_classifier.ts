/**
 * `deno task train-classifier`: trains the MNIST classifier used by `deno task eval` and saves it
 * to models/classifier/. Flags: --epochs (15), --seed (1).
 */
import { parseArgs } from "node:util";
import { initBackend } from "../engine/backend.ts";
import { loadMnist } from "../datasets/mnist.ts";
import {
  CLASSIFIER_DEFAULTS,
  CLASSIFIER_DIR,
  saveClassifier,
  trainClassifier,
} from "./classifier.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    epochs: { type: "string" },
    seed: { type: "string" },
    out: { type: "string", default: CLASSIFIER_DIR },
  },
});
const epochs = Number(values.epochs ?? CLASSIFIER_DEFAULTS.epochs);
const seed = Number(values.seed ?? CLASSIFIER_DEFAULTS.seed);
if (!Number.isInteger(epochs) || epochs < 1 || epochs > 200) {
  console.error(`error: --epochs: got ${JSON.stringify(values.epochs)}; accepts an integer 1..200`);
  Deno.exit(2);
}
if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
  console.error(
    `error: --seed: got ${JSON.stringify(values.seed)}; accepts an integer 0..4294967295`,
  );
  Deno.exit(2);
}
const backend = await initBackend("wasm");
console.log(
  `train-classifier: 784-1024-256-10 MLP, ${epochs} epochs, seed ${seed}, backend ${backend.name}`,
);
const [train, test] = await Promise.all([loadMnist("train"), loadMnist("test")]);
const started = performance.now();
const { classifier, testAccuracy } = trainClassifier(train, test, {
  ...CLASSIFIER_DEFAULTS,
  epochs,
  seed,
  onEpoch: (epoch, acc, s) =>
    console.log(
      `epoch ${String(epoch).padStart(3)}/${epochs}  test accuracy ${(100 * acc).toFixed(2)}%  ${
        s.toFixed(0)
      } s`,
    ),
});
const metadata = await saveClassifier(values.out!, classifier, {
  testAccuracy,
  epochs,
  seed,
  wallTimeS: Math.round((performance.now() - started) / 1000),
});
console.log(
  `saved ${values.out}/model.json: test accuracy ${
    (100 * metadata.testAccuracy).toFixed(2)
  }% (weights sha256 ${metadata.weightsSha256.slice(0, 12)}…)`,
);
