/**
 * `deno task train-classifier`: trains the MNIST classifier used by `deno task eval` and saves it
 * to models/classifier/ (flags: --epochs, --seed, --out; defaults in CLASSIFIER_DEFAULTS).
 */
import { exitUsage, parseCli } from "../cli/flags.ts";
import { initBackend } from "../tfjs/backend.ts";
import { loadMnist } from "../datasets/mnist.ts";
import {
  CLASSIFIER_DEFAULTS,
  CLASSIFIER_DIR,
  saveClassifier,
  trainClassifier,
} from "./classifier.ts";

const values = parseCli(
  Deno.args,
  "deno task train-classifier: train the MNIST classifier that eval's metrics use.",
  {
    epochs: {
      type: "string",
      accepts: `an integer 1..200 (default ${CLASSIFIER_DEFAULTS.epochs})`,
    },
    seed: {
      type: "string",
      accepts: `an integer 0..4294967295 (default ${CLASSIFIER_DEFAULTS.seed})`,
    },
    out: { type: "string", default: CLASSIFIER_DIR, accepts: "the folder to save it in" },
  },
);
const epochs = Number(values.epochs ?? CLASSIFIER_DEFAULTS.epochs);
const seed = Number(values.seed ?? CLASSIFIER_DEFAULTS.seed);
if (!Number.isInteger(epochs) || epochs < 1 || epochs > 200) {
  exitUsage(`--epochs: got ${JSON.stringify(values.epochs)}; accepts an integer 1..200`);
}
if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
  exitUsage(`--seed: got ${JSON.stringify(values.seed)}; accepts an integer 0..4294967295`);
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
