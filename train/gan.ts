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
import { labelsFor, latentBatch, mix32, Rng, withLabels } from "../models/random.ts";
import { tensorFrom } from "../models/backend.ts";
import { Adam } from "./adam.ts";
import type { TrainConfig } from "./config.ts";
import { MIXTURES, type MnistSplit, sampleMixture } from "./data.ts";
import { buildDiscriminator, buildGenerator, LEAKY_SLOPE } from "./nets.ts";
import { backward, forward, type Mlp, mlpOf } from "./mlp.ts";

export interface StepStats {
  dLoss: number;
  gLoss: number;
  /** Mean D(x) on the real batch (sigmoid of the logits). */
  dReal: number;
  /** Mean D(G(z)) on the fake batch, before the generator's update. */
  dFake: number;
}

/** Purposes of random draws within a step; part of the seed so draws never coincide. */
const DRAW = {
  batch: 1,
  noise: 2,
  gMask: 3,
  dMask: 4,
  dMaskG: 5,
  epoch: 6,
  fakeLabels: 7,
} as const;

/** Where real batches come from: MNIST images, or points from a 2-D mixture. */
export class RealData {
  readonly dim: number;
  #mnist?: MnistSplit;
  #epoch = -1;
  #order?: Uint32Array;

  constructor(readonly config: TrainConfig, mnist?: MnistSplit) {
    this.#mnist = mnist;
    this.dim = config.dataset === "mnist" ? 784 : 2;
    if (config.dataset === "mnist" && !mnist) throw new Error("MNIST data is required");
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
    for (let i = 0; i < batch; i++) {
      const src = this.#order![start + i] * 784;
      for (let j = 0; j < 784; j++) out[i * 784 + j] = images[src + j] / 127.5 - 1;
    }
    return out;
  }

  /** The digit labels of MNIST batch `step` (the same rows as `batch(step)`). */
  labels(step: number): number[] {
    if (!this.#mnist) throw new Error("only MNIST batches have labels");
    const start = this.#start(step);
    return Array.from(
      { length: this.rows },
      (_, i) => this.#mnist!.labels[this.#order![start + i]],
    );
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

export class Gan {
  readonly generator: tfl.Sequential;
  readonly discriminator: tfl.Sequential;
  readonly g: Mlp;
  readonly d: Mlp;
  readonly gVars: tf.Variable[];
  readonly dVars: tf.Variable[];
  readonly gAdam: Adam;
  readonly dAdam: Adam;
  /** 1 for the real half of a discriminator batch, 0 for the fake half. */
  readonly #targets: tf.Tensor2D;

  /** Label classes of a conditional GAN (their one-hot codes extend G's and D's inputs), else 0. */
  readonly classes: number;
  /** PacGAN packing degree: D sees this many samples side by side as one input row. */
  readonly pack: number;

  constructor(readonly config: TrainConfig, readonly data: RealData) {
    const outActivation = config.dataset === "mnist" ? "tanh" : "linear";
    this.classes = config.conditional ? 10 : 0;
    this.generator = buildGenerator({
      inDim: config.latent + this.classes,
      hidden: config.gHidden,
      dropout: config.gDropout,
      outDim: data.dim,
      outActivation,
      seed: config.seed,
    });
    this.pack = config.pack ?? 1;
    this.discriminator = buildDiscriminator({
      inDim: (data.dim + this.classes) * this.pack,
      hidden: config.dHidden,
      dropout: config.dDropout,
      outDim: 1,
      outActivation: "linear",
      seed: config.seed,
    });
    this.g = mlpOf(this.generator, { dropout: config.gDropout, slope: LEAKY_SLOPE, outActivation });
    this.d = mlpOf(this.discriminator, {
      dropout: config.dDropout,
      slope: LEAKY_SLOPE,
      outActivation: "linear",
    });
    this.gVars = this.g.variables;
    this.dVars = this.d.variables;
    this.#targets = tf.concat(
      [tf.ones([config.batch, 1]), tf.zeros([config.batch, 1])],
      0,
    ) as tf.Tensor2D;
    const adam = { lr: config.lr, beta1: config.beta1 };
    this.gAdam = new Adam(this.gVars, adam);
    this.dAdam = new Adam(this.dVars, adam);
  }

  /** The learning rate of step `step` (0-based) under the configured schedule. */
  learningRate(step: number): number {
    const { lr, lrDecay, steps } = this.config;
    return lrDecay === "linear" ? lr * (1 - step / steps) : lr;
  }

  /** One discriminator update then one generator update, for training step `step` (0-based). */
  step(step: number): StepStats {
    const { latent, seed } = this.config;
    const seeds = (draw: number) => mix32(seed, step, draw);
    this.gAdam.lr = this.dAdam.lr = this.learningRate(step);
    return tf.tidy(() => {
      // A conditional GAN appends the one-hot label to G's noise and to D's images. With
      // packing, G makes `pack` samples per D input and D reads them side by side.
      const { classes, pack } = this;
      const rows = this.config.batch * pack;
      const packed = this.config.batch;
      const dim = this.data.dim;
      const width = (dim + classes) * pack;
      const packRows = (x: tf.Tensor2D) =>
        pack > 1 ? tf.reshape(x, [packed, width]) as tf.Tensor2D : x;
      const realLabels = classes ? this.data.labels(step) : [];
      const fakeLabels = classes ? labelsFor(seeds(DRAW.fakeLabels), rows, classes) : [];
      // Unconditional batches are drawn straight into the tensors' storage.
      const real = classes
        ? tf.tensor2d(withLabels(this.data.batch(step), rows, dim, classes, realLabels), [
          rows,
          dim + classes,
        ])
        : tensorFrom([rows, dim], (out) => this.data.batch(step, out)) as tf.Tensor2D;
      const z = classes
        ? tf.tensor2d(
          withLabels(
            latentBatch(seeds(DRAW.noise), rows, latent),
            rows,
            latent,
            classes,
            fakeLabels,
          ),
          [rows, latent + classes],
        )
        : tensorFrom(
          [rows, latent],
          (out) => latentBatch(seeds(DRAW.noise), rows, latent, out),
        ) as tf.Tensor2D;
      const gTrace = forward(this.g, z, seeds(DRAW.gMask));
      const fake = classes
        ? tf.concat([
          gTrace.output,
          tf.cast(tf.oneHot(tf.tensor1d(fakeLabels, "int32"), classes), "float32"),
        ], 1) as tf.Tensor2D
        : gTrace.output;

      // Discriminator: real and fake in one batch of 2B (packed) rows. For loss softplus(-l) on real and
      // softplus(l) on fake, each averaged over B, dLoss/dl = (sigmoid(l) - target) / B.
      const dTrace = forward(
        this.d,
        tf.concat([packRows(real), packRows(fake)], 0),
        seeds(DRAW.dMask),
      );
      const logits = dTrace.output;
      const [realLogits, fakeLogits] = tf.split(logits, 2, 0);
      const dLoss = tf.add(
        tf.mean(tf.softplus(tf.neg(realLogits))),
        tf.mean(tf.softplus(fakeLogits)),
      );
      const dLogits = tf.div(tf.sub(tf.sigmoid(logits), this.#targets), packed) as tf.Tensor2D;
      this.dAdam.apply(backward(this.d, dTrace, dLogits).grads);

      // Generator: the non-saturating loss softplus(-D(G(z))) through the updated D, whose
      // weight gradients are not needed; G is unchanged since `fake` was computed.
      const gdTrace = forward(this.d, packRows(fake), seeds(DRAW.dMaskG));
      const gLogits = gdTrace.output;
      const gLoss = tf.mean(tf.softplus(tf.neg(gLogits)));
      const dGLogits = tf.div(tf.sub(tf.sigmoid(gLogits), 1), packed) as tf.Tensor2D;
      const { dInput } = backward(this.d, gdTrace, dGLogits, { params: false, input: true });
      const dRows = pack > 1 ? tf.reshape(dInput!, [rows, dim + classes]) as tf.Tensor2D : dInput!;
      const dImages = classes ? tf.slice(dRows, [0, 0], [rows, dim]) as tf.Tensor2D : dRows;
      this.gAdam.apply(backward(this.g, gTrace, dImages).grads);

      const stats = tf.stack([
        dLoss,
        gLoss,
        tf.mean(tf.sigmoid(realLogits)),
        tf.mean(tf.sigmoid(fakeLogits)),
      ])
        .dataSync();
      return { dLoss: stats[0], gLoss: stats[1], dReal: stats[2], dFake: stats[3] };
    });
  }

  /** Everything a checkpoint needs, as named tensors (read, not copied). */
  stateTensors(): Record<string, tf.Tensor> {
    const named: Record<string, tf.Tensor> = {};
    const add = (prefix: string, tensors: tf.Tensor[]) =>
      tensors.forEach((t, i) => named[`${prefix}/${i}`] = t);
    add("G", this.gVars);
    add("D", this.dVars);
    add("gAdam/m", this.gAdam.m);
    add("gAdam/v", this.gAdam.v);
    add("dAdam/m", this.dAdam.m);
    add("dAdam/v", this.dAdam.v);
    return named;
  }

  /** Restores nets and optimizers from checkpoint tensors; `t` is the optimizers' step count. */
  restore(t: number, tensors: Record<string, { shape: number[]; values: Float32Array }>): void {
    const take = (prefix: string, like: tf.Variable[]) =>
      like.map((v, i) => {
        const saved = tensors[`${prefix}/${i}`];
        if (!saved || saved.shape.join("x") !== v.shape.join("x")) {
          throw new Error(`checkpoint tensor ${prefix}/${i} is missing or has the wrong shape`);
        }
        return tf.tensor(saved.values, saved.shape);
      });
    tf.tidy(() => {
      take("G", this.gVars).forEach((x, i) => this.gVars[i].assign(x));
      take("D", this.dVars).forEach((x, i) => this.dVars[i].assign(x));
      this.gAdam.restore(t, take("gAdam/m", this.gVars), take("gAdam/v", this.gVars));
      this.dAdam.restore(t, take("dAdam/m", this.dVars), take("dAdam/v", this.dVars));
    });
  }

  dispose(): void {
    this.generator.dispose();
    this.discriminator.dispose();
    this.gAdam.dispose();
    this.dAdam.dispose();
    this.#targets.dispose();
  }
}
