/**
 * The GAN: generator, discriminator, their optimizers, and one training step.
 *
 * Loss: the non-saturating GAN loss on logits (Goodfellow et al., 2014):
 *   D minimises softplus(-D(x)) + softplus(D(G(z)));  G minimises softplus(-D(G(z))).
 *
 * Every random draw of step s (batch, noise, dropout masks) is a function of (seed, s), so two
 * runs with the same config are bitwise identical and a resumed run continues exactly.
 */
import * as tf from "@tensorflow/tfjs-core";
import type * as tfl from "@tensorflow/tfjs-layers";
import { labelsFor, latentBatch, mix32, Rng, withLabels } from "../random/seeded.ts";
import { float32View, tensorFrom } from "../tfjs/backend.ts";
import { Adam } from "../nn/adam.ts";
import { type ModelConfig, peakRate, rateAt } from "./config.ts";
import { type MnistSplit, pixelToUnit, toUnitRange } from "../datasets/mnist.ts";
import { MIXTURES, sampleMixture } from "../datasets/mixtures.ts";
import { buildDiscriminator, buildGenerator, LEAKY_SLOPE } from "../nn/nets.ts";
import { backward, forward, type Mlp, mlpOf } from "../nn/mlp.ts";
import { kMeans, nearest } from "./clusters.ts";
import { DATASET_SPECS } from "../datasets/specs.ts";

export interface StepStats {
  dLoss: number;
  gLoss: number;
  /** Mean D(x) on the real batch (sigmoid of the logits). */
  dReal: number;
  /** Mean D(G(z)) on the fake batch, before the generator's update. */
  dFake: number;
}

/** Purposes of random draws within a step; part of the seed so draws never coincide. */
export const DRAW = {
  batch: 1,
  noise: 2,
  gMask: 3,
  dMask: 4,
  dMaskG: 5,
  epoch: 6,
  fakeLabels: 7,
  ensembleKeep: 8,
  ensembleInit: 9,
  clusterFit: 10,
} as const;

/** Points of a 2-D mixture that self-conditioning's k-means is fitted on. */
const MIXTURE_CLUSTER_FIT = 10_000;

/** Where real batches come from: MNIST images, or points from a 2-D mixture. */
export class RealData {
  readonly dim: number;
  #mnist?: MnistSplit;
  #epoch = -1;
  #order?: Uint32Array;

  /**
   * Self-conditioning: the k-means centroids, the clusters' shares, and each training image's
   * cluster (a mixture's points are drawn afresh each step, so they are assigned as drawn).
   */
  readonly clusters?: { assignment?: Uint8Array; centroids: Float32Array; weights: number[] };

  constructor(readonly config: ModelConfig, mnist?: MnistSplit) {
    this.#mnist = mnist;
    const spec = DATASET_SPECS[config.dataset];
    this.dim = spec.dim;
    if (spec.kind === "images" && !mnist) throw new Error("MNIST data is required");
    if (config.selfCondition > 0) {
      // A mixture is clustered on a fixed seeded draw of its points; images on the training set.
      const fitN = mnist ? mnist.count : MIXTURE_CLUSTER_FIT;
      const x = mnist ? toUnitRange(mnist.images) : sampleMixture(
        MIXTURES[config.dataset],
        fitN,
        new Rng(mix32(config.seed, 0, DRAW.clusterFit)),
      );
      const { assignment, weights, centroids } = kMeans(
        x,
        fitN,
        this.dim,
        config.selfCondition,
        config.seed,
      );
      // Rounded once, so the trainer draws with exactly the weights the metadata records.
      this.clusters = {
        ...(mnist ? { assignment } : {}),
        centroids,
        weights: weights.map((w) => Math.round(w * 1e6) / 1e6),
      };
    }
  }

  /** Real samples per step: the batch times the packing degree. */
  get rows(): number {
    return this.config.batch * (this.config.pack ?? 1);
  }

  /** The real samples for `step` (`rows` of them, into `out` if given), in [-1, 1] for MNIST. */
  batch(step: number, out: Float32Array = new Float32Array(this.rows * this.dim)): Float32Array {
    const { seed } = this.config;
    const batch = this.rows;
    if (!this.#mnist) {
      return sampleMixture(
        MIXTURES[this.config.dataset],
        batch,
        new Rng(mix32(seed, step, DRAW.batch)),
        out,
      );
    }
    const images = this.#mnist.images;
    const start = this.#start(step);
    const dim = this.dim;
    // Pixels to [-1, 1], row by row into the batch.
    for (let i = 0; i < batch; i++) {
      const src = this.#order![start + i] * dim;
      for (let j = 0; j < dim; j++) out[i * dim + j] = pixelToUnit(images[src + j]);
    }
    return out;
  }

  /**
   * The digit labels of MNIST batch `step` (the same rows as `batch(step)`), or their clusters
   * when self-conditioned. A mixture's points are labelled by their nearest centroid: pass
   * `batch(step)` as `points` if it is drawn already, so it is not drawn twice.
   */
  labels(step: number, points?: Float32Array): number[] {
    if (!this.#mnist) {
      if (!this.clusters) throw new Error("a mixture's points have labels only when clustered");
      const { centroids, weights } = this.clusters;
      const drawn = points ?? this.batch(step);
      return Array.from(
        { length: this.rows },
        (_, i) => nearest(drawn, i, centroids, weights.length, this.dim).cluster,
      );
    }
    const start = this.#start(step);
    const of = this.clusters?.assignment ?? this.#mnist.labels;
    return Array.from({ length: this.rows }, (_, i) => of[this.#order![start + i]]);
  }

  /**
   * The first row of batch `step` in its epoch's order. Epochs are fresh permutations of the
   * training set, dropping the last partial batch.
   */
  #start(step: number): number {
    const perEpoch = Math.floor(this.#mnist!.count / this.rows);
    const epoch = Math.floor(step / perEpoch);
    if (epoch !== this.#epoch) {
      this.#order = permutation(
        this.#mnist!.count,
        new Rng(mix32(this.config.seed, epoch, DRAW.epoch)),
      );
      this.#epoch = epoch;
    }
    return (step % perEpoch) * this.rows;
  }
}

function permutation(n: number, rng: Rng): Uint32Array {
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = rng.nextInt(i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}

/**
 * average = decay * average + (1 - decay) * weights, in place: one JavaScript pass (~0.3 ms
 * for the default G's 292k weights, under 2% of a step). Decay 0 copies the weights.
 */
export function updateMovingAverage(
  average: Float32Array,
  weights: Float32Array,
  decay: number,
): void {
  for (let j = 0; j < average.length; j++) {
    average[j] = decay * average[j] + (1 - decay) * weights[j];
  }
}

export class Gan {
  readonly generator: tfl.Sequential;
  /** The discriminators: one, or K for Dropout-GAN (`--d-ensemble K`). */
  readonly discriminators: tfl.Sequential[];
  readonly g: Mlp;
  readonly ds: Mlp[];
  readonly gVars: tf.Variable[];
  readonly gAdam: Adam;
  readonly dAdams: Adam[];
  /** The moving average of G's variables (same order as `gVars`), when `--ema` is on. */
  readonly ema?: Float32Array[];
  #emaGenerator?: tfl.Sequential;
  /** Per real row of a discriminator batch its target (1, or `realTarget`), then 0 per fake. */
  readonly #targets: tf.Tensor2D;

  /** Label classes of a conditional GAN (their one-hot codes extend G's and D's inputs), else 0. */
  readonly classes: number;
  /** PacGAN packing degree: D sees this many samples side by side as one input row. */
  readonly pack: number;
  /**
   * The label classes in D's input: `classes`, or 0 with an auxiliary classifier (AC-GAN),
   * whose D reads the image alone and answers with 1 + `classes` logits (real/fake, the digit).
   */
  readonly dClasses: number;

  constructor(readonly config: ModelConfig, readonly data: RealData) {
    this.classes = config.conditional ? 10 : config.selfCondition ?? 0;
    this.generator = this.#buildGenerator();
    this.pack = config.pack ?? 1;
    const aux = (config.auxClassifier ?? 0) > 0;
    this.dClasses = aux ? 0 : this.classes;
    const ensemble = config.dEnsemble ?? 1;
    this.discriminators = Array.from({ length: ensemble }, (_, k) =>
      buildDiscriminator({
        inDim: (data.dim + this.dClasses) * this.pack,
        hidden: config.dHidden,
        dropout: peakRate(config.dDropout),
        outDim: aux ? 1 + this.classes : 1,
        outActivation: "linear",
        // The first D keeps the plain GAN's initial weights; the others start elsewhere.
        seed: k === 0 ? config.seed : mix32(config.seed, k, DRAW.ensembleInit),
      }));
    this.g = mlpOf(this.generator, {
      dropout: peakRate(config.gDropout),
      slope: LEAKY_SLOPE,
      outActivation: this.#outActivation,
    });
    this.ds = this.discriminators.map((d) =>
      mlpOf(d, { dropout: peakRate(config.dDropout), slope: LEAKY_SLOPE, outActivation: "linear" })
    );
    this.gVars = this.g.variables;
    const realTarget = config.realTarget ?? 1;
    this.#targets = tf.concat(
      [tf.fill([config.batch, 1], realTarget), tf.zeros([config.batch, 1])],
      0,
    ) as tf.Tensor2D;
    const adam = { lr: config.lr, beta1: config.beta1 };
    this.gAdam = new Adam(this.gVars, adam);
    this.dAdams = this.ds.map((d) => new Adam(d.variables, adam));
    if (config.ema > 0) this.ema = this.gVars.map((v) => v.dataSync().slice() as Float32Array);
  }

  get #outActivation(): "tanh" | "linear" {
    return DATASET_SPECS[this.config.dataset].outActivation;
  }

  #buildGenerator(): tfl.Sequential {
    return buildGenerator({
      inDim: this.config.latent + this.classes,
      hidden: this.config.gHidden,
      dropout: peakRate(this.config.gDropout),
      outDim: this.data.dim,
      outActivation: this.#outActivation,
      seed: this.config.seed,
    });
  }

  /** The first (with `--d-ensemble 1`, the only) discriminator. */
  get discriminator(): tfl.Sequential {
    return this.discriminators[0];
  }
  get d(): Mlp {
    return this.ds[0];
  }
  get dVars(): tf.Variable[] {
    return this.ds[0].variables;
  }
  get dAdam(): Adam {
    return this.dAdams[0];
  }

  /**
   * The generator to sample and save: the moving average of G's weights when `--ema` is on
   * (a second model, refreshed from the average on each call), else G itself.
   */
  averagedGenerator(): tfl.Sequential {
    if (!this.ema) return this.generator;
    this.#emaGenerator ??= this.#buildGenerator();
    const vars = mlpOf(this.#emaGenerator, {
      dropout: 0,
      slope: LEAKY_SLOPE,
      outActivation: this.#outActivation,
    }).variables;
    // assign() gives each variable a fresh tensor, so no kernel reuses weights packed earlier.
    tf.tidy(() => vars.forEach((v, i) => v.assign(tf.tensor(this.ema![i], v.shape))));
    return this.#emaGenerator;
  }

  /** The learning rate of step `step` (0-based) under the configured schedule. */
  learningRate(step: number): number {
    const { lr, lrDecay, steps } = this.config;
    return lrDecay === "linear" ? lr * (1 - step / steps) : lr;
  }

  /**
   * Dropout-GAN: which discriminators give G feedback at step `step`. Each is dropped with
   * probability `dEnsembleDrop`; when all are, one drawn at random is kept.
   */
  keptDiscriminators(step: number): boolean[] {
    const k = this.ds.length;
    const drop = this.config.dEnsembleDrop ?? 0;
    if (k === 1) return [true];
    const rng = new Rng(mix32(this.config.seed, step, DRAW.ensembleKeep));
    const kept = Array.from({ length: k }, () => rng.nextFloat() >= drop);
    if (!kept.includes(true)) kept[rng.nextInt(k)] = true;
    return kept;
  }

  /** One discriminator update then one generator update, for training step `step` (0-based). */
  step(step: number): StepStats {
    const seeds = (draw: number) => mix32(this.config.seed, step, draw);
    this.#setSchedules(step);
    const kept = this.keptDiscriminators(step);
    const stats = tf.tidy(() => {
      const { real, z, realLabels, fakeLabels } = this.#drawBatch(step, seeds);
      const gTrace = forward(this.g, z, seeds(DRAW.gMask));
      const fake = this.#asDInput(gTrace.output, fakeLabels);
      // Each discriminator sees real and fake in one batch of 2B (packed) rows.
      const dBatch = tf.concat([this.#packRows(real), this.#packRows(fake)], 0);
      const dStats = this.ds.map((_, k) => this.#trainDiscriminator(k, dBatch, realLabels, seeds));
      const g = this.#generatorFeedback(step, kept, this.#packRows(fake), fakeLabels, seeds);
      this.gAdam.apply(backward(this.g, gTrace, g.dImages).grads);
      const mean = (xs: tf.Tensor[]) => xs.length === 1 ? xs[0] : tf.div(tf.addN(xs), xs.length);
      return tf.stack([
        mean(dStats.map((s) => s.dLoss)),
        mean(g.losses),
        mean(dStats.map((s) => s.dReal)),
        mean(dStats.map((s) => s.dFake)),
      ]);
    });
    const values = stats.dataSync();
    stats.dispose();
    if (this.ema) this.#updateEma();
    return { dLoss: values[0], gLoss: values[1], dReal: values[2], dFake: values[3] };
  }

  /** The learning rate and dropout rates of step `step` under their schedules. */
  #setSchedules(step: number): void {
    const lr = this.learningRate(step);
    this.gAdam.lr = lr;
    for (const adam of this.dAdams) adam.lr = lr;
    this.g.dropout = rateAt(this.config.gDropout, step, this.config.steps);
    const dRate = rateAt(this.config.dDropout, step, this.config.steps);
    for (const d of this.ds) d.dropout = dRate;
  }

  /**
   * Step `step`'s real rows and G's inputs (B x pack rows each). A conditional GAN appends the
   * one-hot label to G's noise and, unless D names the class itself, to D's images. Fake labels
   * are uniform digits, or clusters in proportion to their sizes.
   */
  #drawBatch(step: number, seeds: (draw: number) => number) {
    const { classes, dClasses } = this;
    const { latent } = this.config;
    const rows = this.config.batch * this.pack;
    const dim = this.data.dim;
    const realBatch = dClasses ? this.data.batch(step) : undefined;
    const realLabels = classes ? this.data.labels(step, realBatch) : [];
    const fakeLabels = classes
      ? labelsFor(seeds(DRAW.fakeLabels), rows, classes, undefined, this.data.clusters?.weights)
      : [];
    // Unconditional batches are drawn straight into the tensors' storage.
    const real = dClasses
      ? tf.tensor2d(withLabels(realBatch!, rows, dim, classes, realLabels), [rows, dim + classes])
      : tensorFrom([rows, dim], (out) => this.data.batch(step, out)) as tf.Tensor2D;
    const z = classes
      ? tf.tensor2d(
        withLabels(latentBatch(seeds(DRAW.noise), rows, latent), rows, latent, classes, fakeLabels),
        [rows, latent + classes],
      )
      : tensorFrom(
        [rows, latent],
        (out) => latentBatch(seeds(DRAW.noise), rows, latent, out),
      ) as tf.Tensor2D;
    return { real, z, realLabels, fakeLabels };
  }

  /** G's output as D reads it: with the one-hot label appended when D is conditional. */
  #asDInput(images: tf.Tensor2D, labels: number[]): tf.Tensor2D {
    if (!this.dClasses) return images;
    const oneHot = tf.cast(tf.oneHot(tf.tensor1d(labels, "int32"), this.classes), "float32");
    return tf.concat([images, oneHot], 1) as tf.Tensor2D;
  }

  /** PacGAN: `pack` consecutive rows side by side, as one row of D's input. */
  #packRows(x: tf.Tensor2D): tf.Tensor2D {
    if (this.pack === 1) return x;
    return tf.reshape(x, [this.config.batch, (this.data.dim + this.dClasses) * this.pack]);
  }

  /**
   * AC-GAN: the class head's gradient of w * cross-entropy(softmax(c), label) / B is
   * w * (softmax(c) - onehot(label)) / B.
   */
  #classGradient(logits: tf.Tensor2D, labels: number[], scale: number): tf.Tensor2D {
    const aux = this.config.auxClassifier ?? 0;
    return tf.mul(
      tf.sub(
        tf.softmax(tf.slice(logits, [0, 1], [-1, this.classes])),
        tf.oneHot(tf.tensor1d(labels, "int32"), this.classes),
      ),
      aux / scale,
    ) as tf.Tensor2D;
  }

  /**
   * Updates discriminator `k` on the real-then-fake batch. For the loss
   * -t log sigmoid(l) - (1 - t) log(1 - sigmoid(l)) with target t (1, or the smoothed real
   * target; 0 for fakes), averaged over B per half, dLoss/dl = (sigmoid(l) - t) / B. With an
   * auxiliary classifier D learns the class on real images only, so it stays a classifier of
   * real digits that G must satisfy.
   */
  #trainDiscriminator(
    k: number,
    dBatch: tf.Tensor2D,
    realLabels: number[],
    seeds: (draw: number) => number,
  ) {
    const d = this.ds[k];
    const packed = this.config.batch;
    const dTrace = forward(d, dBatch, discriminatorSeed(seeds(DRAW.dMask), k));
    const allLogits = dTrace.output;
    const logits = this.#realFakeLogit(allLogits);
    const [realLogits, fakeLogits] = tf.split(logits, 2, 0);
    const t = this.config.realTarget ?? 1;
    const realLoss = t === 1 ? tf.mean(tf.softplus(tf.neg(realLogits))) : tf.mean(tf.add(
      tf.mul(tf.softplus(tf.neg(realLogits)), t),
      tf.mul(tf.softplus(realLogits), 1 - t),
    ));
    const dLoss = tf.add(realLoss, tf.mean(tf.softplus(fakeLogits)));
    let dLogits = tf.div(tf.sub(tf.sigmoid(logits), this.#targets), packed) as tf.Tensor2D;
    if (this.config.auxClassifier) {
      const labels = [...realLabels, ...realLabels]; // the fake half is masked out
      const realOnly = tf.concat([tf.ones([packed, 1]), tf.zeros([packed, 1])], 0);
      const dClass = tf.mul(this.#classGradient(allLogits, labels, packed), realOnly);
      dLogits = tf.concat([dLogits, dClass], 1) as tf.Tensor2D;
    }
    this.dAdams[k].apply(backward(d, dTrace, dLogits).grads);
    return {
      dLoss,
      dReal: tf.mean(tf.sigmoid(realLogits)),
      dFake: tf.mean(tf.sigmoid(fakeLogits)),
    };
  }

  /**
   * G's loss and the gradient on its images: the non-saturating loss softplus(-D(G(z))) through
   * the updated discriminators (with an ensemble, the mean over the kept ones), whose weight
   * gradients are not needed; G is unchanged since `fake` was computed. Top-k (Sinha et al.
   * 2020): only the k fakes each D rates most real train G, so G is not pulled towards the
   * worst samples late in training.
   */
  #generatorFeedback(
    step: number,
    kept: boolean[],
    packedFake: tf.Tensor2D,
    fakeLabels: number[],
    seeds: (draw: number) => number,
  ): { losses: tf.Tensor[]; dImages: tf.Tensor2D } {
    const packed = this.config.batch;
    const rows = packed * this.pack;
    const keptCount = kept.filter((x) => x).length;
    const topK = Math.max(
      1,
      Math.round(rateAt(this.config.gTopK, step, this.config.steps) * packed),
    );
    const losses: tf.Tensor[] = [];
    let dImages: tf.Tensor2D | undefined;
    this.ds.forEach((d, k) => {
      if (!kept[k]) return;
      const gdTrace = forward(d, packedFake, discriminatorSeed(seeds(DRAW.dMaskG), k));
      const gLogits = this.#realFakeLogit(gdTrace.output);
      const rowLosses = tf.softplus(tf.neg(gLogits));
      let dGLogits = tf.div(tf.sub(tf.sigmoid(gLogits), 1), topK * keptCount) as tf.Tensor2D;
      if (topK < packed) {
        const chosen = topKMask(gLogits, topK);
        dGLogits = tf.mul(dGLogits, chosen);
        losses.push(tf.div(tf.sum(tf.mul(rowLosses, chosen)), topK));
      } else {
        losses.push(tf.mean(rowLosses));
      }
      if (this.config.auxClassifier) {
        const dClass = this.#classGradient(gdTrace.output, fakeLabels, packed * keptCount);
        dGLogits = tf.concat([dGLogits, dClass], 1) as tf.Tensor2D;
      }
      const { dInput } = backward(d, gdTrace, dGLogits, { params: false, input: true });
      const dRows = this.pack > 1
        ? tf.reshape(dInput!, [rows, this.data.dim + this.dClasses]) as tf.Tensor2D
        : dInput!;
      const dG = this.dClasses
        ? tf.slice(dRows, [0, 0], [rows, this.data.dim]) as tf.Tensor2D
        : dRows;
      dImages = dImages ? tf.add(dImages, dG) : dG;
    });
    return { losses, dImages: dImages! };
  }

  /** The real/fake logit: column 0 when D also names the class. */
  #realFakeLogit(output: tf.Tensor2D): tf.Tensor2D {
    return this.config.auxClassifier ? tf.slice(output, [0, 0], [-1, 1]) as tf.Tensor2D : output;
  }

  #updateEma(): void {
    this.gVars.forEach((v, i) => {
      updateMovingAverage(
        this.ema![i],
        float32View(v) ?? (v.dataSync() as Float32Array),
        this.config.ema,
      );
    });
  }

  /** Everything a checkpoint needs, as named tensors or arrays (read, not copied). */
  stateTensors(): Record<string, tf.Tensor | { shape: number[]; values: Float32Array }> {
    const named: Record<string, tf.Tensor | { shape: number[]; values: Float32Array }> = {};
    const add = (prefix: string, tensors: tf.Tensor[]) =>
      tensors.forEach((t, i) => named[`${prefix}/${i}`] = t);
    add("G", this.gVars);
    this.ds.forEach((d, k) => add(`D${k || ""}`, d.variables));
    add("gAdam/m", this.gAdam.m);
    add("gAdam/v", this.gAdam.v);
    this.dAdams.forEach((adam, k) => {
      add(`dAdam${k || ""}/m`, adam.m);
      add(`dAdam${k || ""}/v`, adam.v);
    });
    this.ema?.forEach((values, i) => named[`Gema/${i}`] = { shape: this.gVars[i].shape, values });
    return named;
  }

  /** Restores nets and optimizers from checkpoint tensors; `t` is the optimizers' step count. */
  restore(t: number, tensors: Record<string, { shape: number[]; values: Float32Array }>): void {
    const saved = (name: string, shape: number[]) => {
      const x = tensors[name];
      if (!x || x.shape.join("x") !== shape.join("x")) {
        throw new Error(`checkpoint tensor ${name} is missing or has the wrong shape`);
      }
      return x;
    };
    const take = (prefix: string, like: tf.Variable[]) =>
      like.map((v, i) => {
        const x = saved(`${prefix}/${i}`, v.shape);
        return tf.tensor(x.values, x.shape);
      });
    tf.tidy(() => {
      take("G", this.gVars).forEach((x, i) => this.gVars[i].assign(x));
      this.ds.forEach((d, k) =>
        take(`D${k || ""}`, d.variables).forEach((x, i) => d.variables[i].assign(x))
      );
      this.gAdam.restore(t, take("gAdam/m", this.gVars), take("gAdam/v", this.gVars));
      this.dAdams.forEach((adam, k) => {
        const vars = this.ds[k].variables;
        adam.restore(t, take(`dAdam${k || ""}/m`, vars), take(`dAdam${k || ""}/v`, vars));
      });
    });
    this.ema?.forEach((e, i) => e.set(saved(`Gema/${i}`, this.gVars[i].shape).values));
  }

  dispose(): void {
    this.generator.dispose();
    this.#emaGenerator?.dispose();
    for (const d of this.discriminators) d.dispose();
    this.gAdam.dispose();
    for (const adam of this.dAdams) adam.dispose();
    this.#targets.dispose();
  }
}

/** Discriminator k > 0 draws its masks from its own seeds; D 0 keeps the plain GAN's. */
export function discriminatorSeed(seed: number, k: number): number {
  return k === 0 ? seed : mix32(seed, k);
}

/**
 * 1 for the `k` rows of `logits` (n x 1) that D rates most real, 0 for the rest (ties at the
 * k-th value are all kept).
 */
export function topKMask(logits: tf.Tensor2D, k: number): tf.Tensor2D {
  return tf.tidy(() => {
    const kth = tf.min(tf.topk(tf.reshape(logits, [-1]), k).values);
    return tf.cast(tf.greaterEqual(logits, kth), "float32") as tf.Tensor2D;
  });
}
