/**
 * The MNIST classifier behind the image metrics: an MLP (784-1024-256-10, ReLU, dropout) trained
 * with small random shifts of the digits, saved in the same tfjs Layers format as generators.
 * Its 256 penultimate activations are the feature space for the Fréchet distance and for
 * precision and recall.
 *
 * ```ts
 * const classifier = await loadClassifier("models/classifier");
 * const { probs, features } = classify(classifier, images, n); // images in [-1, 1]
 * ```
 */
import * as tf from "@tensorflow/tfjs-core";
import type * as tfl from "@tensorflow/tfjs-layers";
import { modelWeights, readLayersModel, writeLayersModel } from "../tfjs/layers_files.ts";
import { ModelLoadError } from "../format/model_files.ts";
import { mix32, Rng } from "../random/seeded.ts";
import { Adam } from "../nn/adam.ts";
import { type MnistSplit, pixelToUnit, toUnitRange } from "../datasets/mnist.ts";
import { backward, forward, type Mlp, mlpOf } from "../nn/mlp.ts";
import { buildMlp } from "../nn/nets.ts";
import { MNIST_PIXELS } from "../datasets/specs.ts";

export const CLASSIFIER_FORMAT = "edgegan-classifier";
export const CLASSIFIER_DIR = new URL("../models/classifier", import.meta.url).pathname;
export const HIDDEN = [1024, 256];
const DROPOUT = 0.3;

export interface ClassifierMetadata {
  format: typeof CLASSIFIER_FORMAT;
  formatVersion: 1;
  hidden: number[];
  featureSize: number;
  testAccuracy: number;
  epochs: number;
  seed: number;
  wallTimeS: number;
  tfjsVersion: string;
  weightsSha256: string;
  createdAt: string;
}

export interface Classifier {
  model: tfl.LayersModel;
  net: Mlp;
  metadata?: ClassifierMetadata;
}

export function buildClassifier(seed: number): Classifier {
  const model = buildMlp({
    inDim: MNIST_PIXELS,
    hidden: HIDDEN,
    dropout: DROPOUT,
    outDim: 10,
    outActivation: "linear",
    seed,
    name: "classifier",
    slope: 0,
  });
  return { model, net: mlpOf(model, { dropout: DROPOUT, slope: 0, outActivation: "linear" }) };
}

/**
 * Inference: class probabilities and penultimate features for `n` images in [-1, 1], row-major,
 * computed in chunks to bound memory.
 */
export function classify(
  classifier: Classifier,
  images: Float32Array,
  n: number,
  chunk = 2000,
): { probs: Float32Array; features: Float32Array } {
  const { layers } = classifier.net;
  const featureSize = layers[layers.length - 1].kernel.shape[0];
  const probs = new Float32Array(n * 10);
  const features = new Float32Array(n * featureSize);
  for (let start = 0; start < n; start += chunk) {
    const rows = Math.min(chunk, n - start);
    tf.tidy(() => {
      let h: tf.Tensor2D = tf.tensor2d(
        images.subarray(start * MNIST_PIXELS, (start + rows) * MNIST_PIXELS),
        [
          rows,
          MNIST_PIXELS,
        ],
      );
      layers.forEach(({ kernel, bias }, l) => {
        if (l === layers.length - 1) {
          features.set(h.dataSync(), start * featureSize);
          probs.set(tf.softmax(tf.fused.matMul({ a: h, b: kernel, bias })).dataSync(), start * 10);
        } else {
          h = tf.fused.matMul({ a: h, b: kernel, bias, activation: "relu" }) as tf.Tensor2D;
        }
      });
    });
  }
  return { probs, features };
}

export function accuracy(probs: Float32Array, labels: Uint8Array): number {
  let correct = 0;
  for (let i = 0; i < labels.length; i++) {
    let best = 0;
    for (let c = 1; c < 10; c++) if (probs[i * 10 + c] > probs[i * 10 + best]) best = c;
    if (best === labels[i]) correct++;
  }
  return correct / labels.length;
}

/** Copies image `src` into `dst` shifted by (dx, dy) pixels, filling with -1 (black). */
function shifted(
  src: Uint8Array,
  offset: number,
  dst: Float32Array,
  at: number,
  dx: number,
  dy: number,
) {
  for (let y = 0; y < 28; y++) {
    const sy = y - dy;
    for (let x = 0; x < 28; x++) {
      const sx = x - dx;
      dst[at + y * 28 + x] = sx >= 0 && sx < 28 && sy >= 0 && sy < 28
        ? pixelToUnit(src[offset + sy * 28 + sx])
        : -1;
    }
  }
}

export interface ClassifierTraining {
  epochs: number;
  batch: number;
  lr: number;
  seed: number;
  /** Largest random shift in pixels (augmentation). */
  maxShift: number;
  onEpoch?: (epoch: number, testAccuracy: number, seconds: number) => void;
}

export const CLASSIFIER_DEFAULTS: ClassifierTraining = {
  epochs: 20,
  batch: 128,
  lr: 1e-3,
  seed: 1,
  maxShift: 2,
};

/** Trains a classifier on `train`, reporting test accuracy after each epoch. */
export function trainClassifier(
  train: MnistSplit,
  test: MnistSplit,
  options: ClassifierTraining,
): { classifier: Classifier; testAccuracy: number } {
  const classifier = buildClassifier(options.seed);
  const { net } = classifier;
  const adam = new Adam(net.variables, { lr: options.lr, beta1: 0.9 });
  const testImages = toUnitRange(test.images);
  const perEpoch = Math.floor(train.count / options.batch);
  const totalSteps = options.epochs * perEpoch;
  let testAccuracy = 0;
  const started = performance.now();
  for (let epoch = 0; epoch < options.epochs; epoch++) {
    const rng = new Rng(mix32(options.seed, epoch));
    const order = Array.from({ length: train.count }, (_, i) => i);
    for (let i = order.length - 1; i > 0; i--) {
      const j = rng.nextInt(i + 1);
      [order[i], order[j]] = [order[j], order[i]];
    }
    for (let b = 0; b < perEpoch; b++) {
      const step = epoch * perEpoch + b;
      // Cosine decay of the learning rate to 5% of its start.
      const lrScale = 0.05 + 0.95 * 0.5 * (1 + Math.cos((Math.PI * step) / totalSteps));
      const x = new Float32Array(options.batch * MNIST_PIXELS);
      const y = new Float32Array(options.batch * 10);
      for (let i = 0; i < options.batch; i++) {
        const idx = order[b * options.batch + i];
        const dx = rng.nextInt(2 * options.maxShift + 1) - options.maxShift;
        const dy = rng.nextInt(2 * options.maxShift + 1) - options.maxShift;
        shifted(train.images, idx * MNIST_PIXELS, x, i * MNIST_PIXELS, dx, dy);
        y[i * 10 + train.labels[idx]] = 1;
      }
      tf.tidy(() => {
        const trace = forward(
          net,
          tf.tensor2d(x, [options.batch, MNIST_PIXELS]),
          mix32(options.seed, step, 9),
        );
        // Softmax cross-entropy: dLoss/dLogits = (softmax - onehot) / B.
        const dLogits = tf.div(
          tf.sub(tf.softmax(trace.output), tf.tensor2d(y, [options.batch, 10])),
          options.batch,
        ) as tf.Tensor2D;
        const { grads } = backward(net, trace, dLogits);
        adam.lr = options.lr * lrScale;
        adam.apply(grads);
      });
    }
    testAccuracy = accuracy(classify(classifier, testImages, test.count).probs, test.labels);
    options.onEpoch?.(epoch + 1, testAccuracy, (performance.now() - started) / 1000);
  }
  adam.dispose();
  return { classifier, testAccuracy };
}

export async function saveClassifier(
  dir: string,
  classifier: Classifier,
  info: Omit<
    ClassifierMetadata,
    | "format"
    | "formatVersion"
    | "weightsSha256"
    | "tfjsVersion"
    | "createdAt"
    | "hidden"
    | "featureSize"
  >,
): Promise<ClassifierMetadata> {
  const saved = await modelWeights(classifier.model);
  const metadata: ClassifierMetadata = {
    format: CLASSIFIER_FORMAT,
    formatVersion: 1,
    hidden: HIDDEN,
    featureSize: HIDDEN[HIDDEN.length - 1],
    ...info,
    tfjsVersion: tf.version_core,
    weightsSha256: saved.weightsSha256,
    createdAt: new Date().toISOString(),
  };
  await writeLayersModel(dir, saved, metadata);
  return metadata;
}

function checkClassifierMetadata(path: string, meta: unknown): void {
  const m = meta as Record<string, unknown>;
  if (m.format !== CLASSIFIER_FORMAT || m.formatVersion !== 1) {
    throw new ModelLoadError(path, `metadata format must be "${CLASSIFIER_FORMAT}" version 1`);
  }
}

export async function loadClassifier(dir = CLASSIFIER_DIR): Promise<Classifier> {
  const { model, json } = await readLayersModel(dir, checkClassifierMetadata);
  return {
    model,
    net: mlpOf(model, { dropout: 0, slope: 0, outActivation: "linear" }),
    metadata: json.userDefinedMetadata.edgegan as unknown as ClassifierMetadata,
  };
}
