/**
 * One training-speed measurement, printed as a JSON line (run by bench/main.ts, one process per
 * backend since tfjs keeps one backend per process).
 *
 *   deno run --allow-read=. bench/train_bench.ts --backend wasm --loop edgegan --steps 300
 *   deno run --allow-read=. bench/train_bench.ts "--train=--recipe 2d --dataset grid25" --steps 2000
 *
 * Loops: "edgegan" is the trainer's own step (train/gan.ts, or train/fused.ts where the config's
 * engine resolves to it); "stock" is the plain tfjs way (layers' apply with training: true,
 * autodiff, tf.train.adam), for before/after comparison; with --no-fix the wasm
 * transposed-matMul fix is off too. `--train` gives the training flags (default: the seed net).
 */
import { exitUsage, parseCli } from "../cli/flags.ts";
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import { type BackendName, initBackend, setFastTransposedMatMul } from "../tfjs/backend.ts";
import { parseTrainArgs } from "../train/config.ts";
import { createGan, resolveEngine } from "../train/fused.ts";
import { loadMnist } from "../datasets/mnist.ts";
import { RealData } from "../train/gan.ts";
import { buildDiscriminator, buildGenerator } from "../nn/nets.ts";
import { DATASET_SPECS } from "../datasets/specs.ts";

const values = parseCli(Deno.args, "One training-speed measurement, printed as a JSON line.", {
  backend: { type: "string", default: "wasm", accepts: "wasm | cpu" },
  loop: { type: "string", default: "edgegan", accepts: "edgegan | stock" },
  steps: { type: "string", default: "300", accepts: "timed steps, an integer 1..1000000" },
  "no-fix": { type: "boolean", default: false, accepts: "turn the transposed-matMul fix off" },
  train: { type: "string", default: "--recipe seed", accepts: "the training flags, one string" },
});
if (values.backend !== "wasm" && values.backend !== "cpu") {
  exitUsage(`--backend: got ${JSON.stringify(values.backend)}; accepts wasm | cpu`);
}
if (values.loop !== "edgegan" && values.loop !== "stock") {
  exitUsage(`--loop: got ${JSON.stringify(values.loop)}; accepts edgegan | stock`);
}
const backend = values.backend as BackendName;
const steps = Number(values.steps);
if (!Number.isInteger(steps) || steps < 1 || steps > 1_000_000) {
  exitUsage(`--steps: got ${JSON.stringify(values.steps)}; accepts an integer 1..1000000`);
}
await initBackend(backend);
if (values["no-fix"]) setFastTransposedMatMul(false);

// By default the seed net (recipes/seed.json), the same net, batch and Adam as the PyTorch peer
// (bench/torch_gan.py), so the speeds compare like for like whatever the default recipe is.
const parsed = parseTrainArgs(values.train.split(" ").filter(Boolean)).config;
const config = { ...parsed, engine: resolveEngine(parsed), out: "unused" };
const images = DATASET_SPECS[config.dataset].kind === "images";
const data = new RealData(config, images ? await loadMnist("train") : undefined);
const step = values.loop === "stock" ? stockLoop() : edgeganLoop();
const warmup = Math.min(20, Math.ceil(steps / 10));
for (let s = 0; s < warmup; s++) step(s);
const start = performance.now();
for (let s = warmup; s < warmup + steps; s++) step(s);
const seconds = (performance.now() - start) / 1000;
console.log(
  JSON.stringify({
    backend,
    loop: values.loop,
    fix: !values["no-fix"],
    train: values.train,
    engine: config.engine,
    steps,
    stepsPerS: steps / seconds,
  }),
);

function edgeganLoop(): (s: number) => void {
  const gan = createGan(config, data);
  return (s) => gan.step(s);
}

function stockLoop(): (s: number) => void {
  // The seed net: G 100-256-256-784, D 784-256-256-1, dropout 0.5 in both.
  const shared = { hidden: [256, 256], dropout: 0.5, seed: 1 };
  const g = buildGenerator({ ...shared, inDim: 100, outDim: 784, outActivation: "tanh" });
  const d = buildDiscriminator({ ...shared, inDim: 784, outDim: 1, outActivation: "linear" });
  const gOpt = tf.train.adam(2e-4, 0.5);
  const dOpt = tf.train.adam(2e-4, 0.5);
  const gVars = g.trainableWeights.map((w) => w.read() as tf.Variable);
  const dVars = d.trainableWeights.map((w) => w.read() as tf.Variable);
  const train = (m: tfl.LayersModel, x: tf.Tensor) => m.apply(x, { training: true }) as tf.Tensor;
  return (s) =>
    tf.tidy(() => {
      const real = tf.tensor2d(data.batch(s), [64, 784]);
      const z = tf.randomNormal([64, 100]);
      dOpt.minimize(
        () => {
          const fake = train(g, z);
          return tf.add(
            tf.mean(tf.softplus(tf.neg(train(d, real)))),
            tf.mean(tf.softplus(train(d, fake))),
          ) as tf.Scalar;
        },
        false,
        dVars,
      );
      gOpt.minimize(
        () => tf.mean(tf.softplus(tf.neg(train(d, train(g, z))))) as tf.Scalar,
        false,
        gVars,
      );
    });
}
