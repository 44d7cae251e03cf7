/**
 * `deno task eval --model models/<name>`: scores a saved generator with published protocols and
 * writes the numbers into its metadata (so `GET /model` shows them).
 *
 * MNIST generators: 10,000 samples scored with the project's classifier (models/classifier):
 * classifier score, Fréchet distance on its penultimate features against the test set,
 * precision and recall (k = 3), digit coverage, and memorisation (distance to the nearest
 * training image). Each number is printed beside the same number for real data (the test set,
 * against the training set where a reference is needed), as its ceiling.
 * 2-D generators: the PacGAN protocol on 2,500 samples.
 */
import * as tf from "@tensorflow/tfjs-core";
import { parseFlags, UsageError } from "../cli/flags.ts";
import { initBackend } from "../tfjs/backend.ts";
import {
  generate,
  type LoadedGenerator,
  loadGenerator,
  updateGeneratorMetadata,
} from "../tfjs/generator_files.ts";
import { type GeneratorMetadata, inputSpec } from "../format/generator_metadata.ts";
import { ModelLoadError } from "../format/model_files.ts";
import { loadCheckpoint } from "../train/checkpoint.ts";
import { loadMnist, toUnitRange } from "../datasets/mnist.ts";
import { MIXTURES } from "../datasets/mixtures.ts";
import { accuracy, classify, loadClassifier } from "./classifier.ts";
import {
  classifierScore,
  coverage,
  densityCoverage,
  frechetDistance,
  kthNearestSquared,
  pacganMetrics,
  precisionRecall,
  quantiles,
} from "./metrics.ts";
import { DATASET_SPECS, type DatasetName, MNIST_PIXELS } from "../datasets/specs.ts";

export const EVAL_SEED = 20_000_000;

export interface ImageMetrics {
  samples: number;
  classifierScore: number;
  frechetDistance: number;
  precision: number;
  recall: number;
  /** Naeem et al. 2020 (k = 5): robust versions of precision and recall. */
  density: number;
  coverage: number;
  digitsAbove1pct: number;
  digitKlFromUniform: number;
  digitHistogram: number[];
  /** Median and 5th percentile of the distance to the nearest training image (pixels in [-1, 1]). */
  nearestTrainMedian: number;
  nearestTrainP5: number;
}

const MEMO_SAMPLES = 2000;

const ceilings = new Map<number, ImageMetrics>();

/** The image metrics of `images` (n x 784 values in [-1, 1]) against the MNIST test set. */
export async function imageMetrics(
  images: Float32Array,
  n: number,
): Promise<{ generated: ImageMetrics; real: ImageMetrics }> {
  const classifier = await loadClassifier();
  const [train, test] = await Promise.all([loadMnist("train"), loadMnist("test")]);
  const testX = toUnitRange(test.images);
  const trainX = toUnitRange(train.images);
  const d = classifier.metadata!.featureSize;
  const testOut = classify(classifier, testX, test.count);
  // The real-data ceiling: 10,000 training images scored against the test set.
  const refX = trainX.subarray(0, n * MNIST_PIXELS);
  const score = (x: Float32Array): ImageMetrics => {
    const out = classify(classifier, x, n);
    const pr = precisionRecall(testOut.features, out.features, d, 3);
    const dc = densityCoverage(testOut.features, out.features, d, 5);
    const cov = coverage(out.probs, n);
    const memo = x.subarray(0, MEMO_SAMPLES * MNIST_PIXELS);
    const nearest = kthNearestSquared(memo, MEMO_SAMPLES, trainX, train.count, MNIST_PIXELS, 1).map(
      Math.sqrt,
    );
    const [p5, median] = quantiles(nearest, [0.05, 0.5]);
    return {
      samples: n,
      classifierScore: classifierScore(out.probs, n),
      frechetDistance: frechetDistance(out.features, n, testOut.features, test.count, d),
      precision: pr.precision,
      recall: pr.recall,
      density: dc.density,
      coverage: dc.coverage,
      digitsAbove1pct: cov.classesAbove1pct,
      digitKlFromUniform: cov.klFromUniform,
      digitHistogram: cov.histogram,
      nearestTrainMedian: median,
      nearestTrainP5: p5,
    };
  };
  const generated = score(images);
  // For the memorisation reference, test images (never trained on) play the generated role.
  // The ceiling depends only on n: computed once per process (half of an eval's time).
  let real = ceilings.get(n);
  if (!real) ceilings.set(n, real = { ...score(refX), ...memoOf(testX) });
  return { generated, real };

  function memoOf(x: Float32Array) {
    const nearest = kthNearestSquared(
      x.subarray(0, MEMO_SAMPLES * MNIST_PIXELS),
      MEMO_SAMPLES,
      trainX,
      train.count,
      MNIST_PIXELS,
      1,
    ).map(Math.sqrt);
    const [p5, median] = quantiles(nearest, [0.05, 0.5]);
    return { nearestTrainMedian: median, nearestTrainP5: p5 };
  }
}

function row(name: string, ours: number, ceiling: number | string, digits = 3): string {
  const c = typeof ceiling === "number" ? ceiling.toFixed(digits) : ceiling;
  return `  ${name.padEnd(34)}${ours.toFixed(digits).padStart(10)}   ${c.padStart(10)}`;
}

const PER_LABEL = 1000;

/**
 * Conditional models: for each label, the fraction of 1,000 samples asked for that label which
 * the classifier assigns to it.
 */
async function labelAccuracy(model: LoadedGenerator["model"], metadata: GeneratorMetadata) {
  const classifier = await loadClassifier();
  const perLabel: number[] = [];
  for (const label of metadata.labels!) {
    const images = generate(model, inputSpec(metadata), EVAL_SEED + label, PER_LABEL, label);
    const { probs } = classify(classifier, images, PER_LABEL);
    perLabel.push(accuracy(probs, new Uint8Array(PER_LABEL).fill(label)));
  }
  classifier.model.dispose();
  return { labelAccuracy: perLabel.map(round), minLabelAccuracy: round(Math.min(...perLabel)) };
}

/** An image model's metrics (and the real data's, as `ceiling`) on `samples` samples. */
async function scoreImages(loaded: LoadedGenerator, samples: number) {
  const { model, metadata } = loaded;
  const images = generate(model, inputSpec(metadata), EVAL_SEED, samples);
  const { generated: g, real: r } = await imageMetrics(images, samples);
  return {
    evalSamples: samples,
    evalSeed: EVAL_SEED,
    classifierScore: round(g.classifierScore),
    frechetDistance: round(g.frechetDistance),
    precision: round(g.precision),
    recall: round(g.recall),
    density: round(g.density),
    coverage: round(g.coverage),
    digitsAbove1pct: g.digitsAbove1pct,
    digitKlFromUniform: round(g.digitKlFromUniform),
    digitHistogram: g.digitHistogram.map(round),
    nearestTrainMedian: round(g.nearestTrainMedian),
    nearestTrainP5: round(g.nearestTrainP5),
    ...(metadata.labels ? await labelAccuracy(model, metadata) : {}),
    ceiling: {
      classifierScore: round(r.classifierScore),
      frechetDistance: round(r.frechetDistance),
      precision: round(r.precision),
      recall: round(r.recall),
      density: round(r.density),
      coverage: round(r.coverage),
      digitsAbove1pct: r.digitsAbove1pct,
      digitKlFromUniform: round(r.digitKlFromUniform),
      nearestTrainMedian: round(r.nearestTrainMedian),
      nearestTrainP5: round(r.nearestTrainP5),
    },
  };
}
type ImageScores = Awaited<ReturnType<typeof scoreImages>>;

/** The table `deno task eval` prints for an image model. */
function imageTable(id: string, m: ImageScores): string[] {
  const r = m.ceiling;
  return [
    `eval ${id}: ${m.evalSamples} samples (seed ${EVAL_SEED}); ceiling = real data (training images vs the test set)`,
    `  ${"metric".padEnd(34)}${"generator".padStart(10)}   ${"ceiling".padStart(10)}`,
    row("classifier score (max 10)", m.classifierScore, r.classifierScore),
    row("Fréchet distance (classifier feat.)", m.frechetDistance, r.frechetDistance),
    row("precision (k=3)", m.precision, r.precision),
    row("recall (k=3)", m.recall, r.recall),
    row("density (k=5)", m.density, r.density),
    row("coverage (k=5)", m.coverage, r.coverage),
    row("digits holding >= 1%", m.digitsAbove1pct, r.digitsAbove1pct, 0),
    row("digit KL from uniform", m.digitKlFromUniform, r.digitKlFromUniform, 4),
    row(
      "nearest training image, median",
      m.nearestTrainMedian,
      `${r.nearestTrainMedian.toFixed(3)}*`,
    ),
    row("nearest training image, 5th pct", m.nearestTrainP5, `${r.nearestTrainP5.toFixed(3)}*`),
    `  digit histogram: ${
      m.digitHistogram.map((p, i) => `${i}: ${(100 * p).toFixed(1)}%`).join(", ")
    }`,
    ...(m.labelAccuracy
      ? [
        `  per-label accuracy (${PER_LABEL} samples each): ${
          m.labelAccuracy.map((a, i) => `${i}: ${(100 * a).toFixed(1)}%`).join(", ")
        }`,
      ]
      : []),
    "  * for test images, which the generator never saw: a generator that copies training images sits well below",
  ];
}

/** A 2-D model's PacGAN protocol scores on 2,500 samples. */
function scorePoints(loaded: LoadedGenerator) {
  const mixture = MIXTURES[loaded.metadata.dataset];
  const points = generate(loaded.model, inputSpec(loaded.metadata), EVAL_SEED, 2500);
  const m = pacganMetrics(points, mixture);
  return {
    evalSamples: 2500,
    evalSeed: EVAL_SEED,
    modes: m.modes,
    modesTotal: mixture.modes.length,
    highQuality: round(m.highQuality),
    reverseKl: round(m.reverseKl),
    spread: round(m.spread),
  };
}

/**
 * G's own weights, when the saved model is their moving average (`--ema`) and the run's
 * checkpoint is from the same step (a run's final folder; snapshots have none): the checkpoint's
 * copy of the average must equal the saved weights, which also proves the order. One ring8 run
 * saved an average that drew a ring of radius 0.46 while its G drew the data's (radius 0.99);
 * scoring both shows such a run.
 */
async function rawWeights(
  dir: string,
  loaded: LoadedGenerator,
): Promise<Float32Array[] | undefined> {
  if (!loaded.metadata.ema) return undefined;
  const checkpoint = await loadCheckpoint(dir).catch(() => undefined);
  if (checkpoint?.step !== loaded.metadata.steps) return undefined;
  const saved = loaded.model.getWeights().map((w) => w.dataSync() as Float32Array);
  const sameAverage = saved.every((w, i) => {
    const average = checkpoint.tensors[`Gema/${i}`]?.values;
    return average?.length === w.length && average.every((x, j) => x === w[j]);
  });
  if (!sameAverage) return undefined;
  return saved.map((_, i) => checkpoint.tensors[`G/${i}`].values);
}

/** Evaluates one saved generator, prints its scores, and returns (and may save) them. */
async function evaluateModel(
  dir: string,
  samples: number,
  write: boolean,
): Promise<Record<string, unknown>> {
  const loaded = await loadGenerator(dir);
  const started = performance.now();
  let lines: string[];
  let metrics: Record<string, unknown>;
  try {
    if (DATASET_SPECS[loaded.metadata.dataset as DatasetName]?.kind === "images") {
      const m = await scoreImages(loaded, samples);
      [metrics, lines] = [m, imageTable(loaded.id, m)];
    } else {
      const { modesTotal, ...m } = scorePoints(loaded);
      const raw = await rawWeights(dir, loaded);
      let rawScores: ReturnType<typeof scorePoints> | undefined;
      if (raw) {
        const shapes = loaded.model.getWeights().map((w) => w.shape);
        tf.tidy(() =>
          loaded.model.setWeights(raw.map((values, i) => tf.tensor(values, shapes[i])))
        );
        rawScores = scorePoints(loaded);
      }
      metrics = {
        ...m,
        ...(rawScores
          ? {
            rawModes: rawScores.modes,
            rawHighQuality: rawScores.highQuality,
            rawReverseKl: rawScores.reverseKl,
          }
          : {}),
      };
      lines = [
        `eval ${loaded.id}: PacGAN protocol, ${m.evalSamples} samples`,
        `  modes covered ${m.modes}/${modesTotal}, high-quality ${
          (100 * m.highQuality).toFixed(1)
        }%, reverse KL ${m.reverseKl.toFixed(4)}`,
        `  spread around the modes ${
          m.spread.toFixed(2)
        } std per axis (the data: 0.98; a mode drawn as a point: 0)`,
        ...(rawScores
          ? [
            `  G without the weight average (the checkpoint): modes ${rawScores.modes}/${modesTotal}, high-quality ${
              (100 * rawScores.highQuality).toFixed(1)
            }%, reverse KL ${rawScores.reverseKl.toFixed(4)}`,
          ]
          : []),
      ];
    }
  } finally {
    loaded.model.dispose();
  }
  console.log(lines.join("\n"));
  metrics.evalSeconds = Math.round((performance.now() - started) / 1000);
  if (write) {
    await updateGeneratorMetadata(dir, (meta) => ({ ...meta, metrics }));
    console.log(`metrics written to ${dir}/model.json`);
  }
  return metrics;
}

/** Mean ± standard error of each numeric metric over several trainings. */
function summarise(all: Record<string, unknown>[]): void {
  const keys = Object.keys(all[0]).filter((k) =>
    typeof all[0][k] === "number" && !k.startsWith("eval")
  );
  console.log(`\nover ${all.length} trainings (mean ± standard error):`);
  for (const key of keys) {
    const xs = all.map((m) => m[key] as number);
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    const sd = Math.sqrt(xs.reduce((s, x) => s + (x - mean) ** 2, 0) / (xs.length - 1));
    console.log(
      `  ${key.padEnd(22)}${mean.toFixed(4).padStart(10)} ± ${
        (sd / Math.sqrt(xs.length)).toFixed(4)
      }`,
    );
  }
}

async function main(argv: string[]): Promise<number> {
  let values;
  try {
    values = parseFlags(argv, {
      model: { type: "string", multiple: true, accepts: "a saved model folder (repeatable)" },
      seeds: { type: "string", accepts: "K: evaluates <model>-s1 … <model>-sK" },
      samples: { type: "string", accepts: "an integer 100..60000" },
      "no-write": { type: "boolean", accepts: "do not record the metrics in the model" },
    });
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    console.error(`error: ${err.message}`);
    return 2;
  }
  if (!values.model?.length) {
    console.error("error: --model: required; accepts a saved generator folder, e.g. models/mnist");
    return 2;
  }
  const samples = Number(values.samples ?? 10_000);
  if (!Number.isInteger(samples) || samples < 100 || samples > 60_000) {
    console.error(
      `error: --samples: got ${JSON.stringify(values.samples)}; accepts an integer 100..60000`,
    );
    return 2;
  }
  let dirs = values.model.map((d) => d.replace(/\/+$/, ""));
  if (values.seeds !== undefined) {
    const k = Number(values.seeds);
    if (!Number.isInteger(k) || k < 2 || k > 100) {
      console.error(
        `error: --seeds: got ${
          JSON.stringify(values.seeds)
        }; accepts an integer 2..100 (evaluates <model>-s1 … <model>-sK)`,
      );
      return 2;
    }
    dirs = dirs.flatMap((d) => Array.from({ length: k }, (_, i) => `${d}-s${i + 1}`));
  }
  // A folder without a model is a typo on the command line: said before the backend and the
  // data load, and before any other folder's metrics are written.
  const missing = dirs.find((d) => !existsSync(`${d}/model.json`));
  if (missing !== undefined) {
    console.error(
      `error: --model: ${missing} holds no model.json; accepts a saved generator folder, e.g. models/mnist`,
    );
    return 2;
  }
  await initBackend("wasm");
  const all: Record<string, unknown>[] = [];
  for (const dir of dirs) {
    try {
      all.push(await evaluateModel(dir, samples, !values["no-write"]));
    } catch (err) {
      if (err instanceof ModelLoadError) {
        const what = err.file.includes("classifier")
          ? `the classifier: ${err.message}; train it with deno task train-classifier`
          : err.message;
        console.error(`error: ${what}`);
        return 1;
      }
      throw err;
    }
  }
  if (all.length > 1) summarise(all);
  return 0;
}

function existsSync(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

function round(x: number): number {
  return Math.round(x * 1e4) / 1e4;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
