/**
 * The fused training step: a whole GAN step of a Dense GAN (forward, backward, Adam, the
 * weight average; labels or self-conditioning clusters appended as one-hot codes to G's noise
 * and to D's input, as the tfjs step does) run by our WASM SIMD kernels on weights that stay in
 * one WebAssembly memory, in the layout the kernels read.
 *
 * Why: the tfjs step re-packs every weight for XNNPACK on every use, because the weights are new
 * tensors after every update, and a small net pays that as much as its products: a 64 x 256 by
 * 256 x 256 product takes 0.44 ms with our kernel (engine/kernels/gemm.wat) or tfjs on a weight
 * it has packed before, and 1.32 ms on a fresh one (measured on this project's 2-core machine).
 * Here nothing is packed or copied: the strided GEMM reads W for the forward product, reads the
 * layer's input down its columns for the weight gradient, and reads W^T (refreshed after each
 * update, one pass over the weights) for the input gradient.
 *
 * The arithmetic is the tfjs step's (train/gan.ts, nn/mlp.ts): the same random draws, masks,
 * losses and float32 Adam, but products are summed in another order, so weights agree with the
 * tfjs step to float rounding, not bit for bit (tests/fused_test.ts). The fused step is itself
 * deterministic, and resumes exactly: checkpoints hold the same tensors as the tfjs step's.
 *
 * ```ts
 * const gan = createGan(config, data); // a FusedGan where the config allows it
 * gan.step(0);
 * ```
 */
import * as tf from "@tensorflow/tfjs-core";
import { instantiateKernel } from "../engine/kernels/base64.ts";
import { GEMM_WASM } from "../engine/kernels/kernels.ts";
import { labelsFor, latentBatch, mix32, withLabels } from "../random/seeded.ts";
import { adamKernel } from "../nn/adam_simd.ts";
import { fusedUnsupported, type ModelConfig, rateAt, type TrainConfig } from "./config.ts";
import { discriminatorSeed, DRAW, Gan, RealData, type StepStats } from "./gan.ts";
import { fillDropoutMask, type Mlp } from "../nn/mlp.ts";
import { DATASET_SPECS } from "../datasets/specs.ts";

/** The engine a config trains with: `auto` picks the fused step for the 2-D mixtures. */
export function resolveEngine(config: ModelConfig & Pick<TrainConfig, "engine">): "tfjs" | "fused" {
  if (config.engine !== "auto") return config.engine;
  const points = DATASET_SPECS[config.dataset].kind === "points";
  return points && !fusedUnsupported(config) ? "fused" : "tfjs";
}

/** The GAN for `config`: the fused step where `config.engine` resolves to it, else tfjs. */
export function createGan(config: ModelConfig & Pick<TrainConfig, "engine">, data: RealData): Gan {
  return resolveEngine(config) === "fused" ? new FusedGan(config, data) : new Gan(config, data);
}

type Kernel = (...args: number[]) => void;

/** One Dense layer in the fused memory; every pointer is a byte offset. */
interface Layer {
  /** Inputs as stored: the net's input width for the first layer, else the previous `nPad`. */
  k: number;
  /** Outputs, and outputs padded to whole 8-column groups (padding stays exactly 0). */
  out: number;
  nPad: number;
  /** `k` padded to whole 8-column groups: the row width of W^T and of the input gradient. */
  kPad: number;
  w: number;
  b: number;
  wt: number;
  gw: number;
  gb: number;
  mw: number;
  vw: number;
  mb: number;
  vb: number;
  emaW: number;
  emaB: number;
}

interface Net {
  layers: Layer[];
  mlp: Mlp;
  /** Per hidden layer: its output after activation and dropout, and its dropout mask. */
  acts: number[];
  masks: number[];
  out: number;
  /** Two gradient buffers, used in turn going backwards. */
  grads: [number, number];
  /** The last forward pass: its input (pointer, row bytes), rows, and whether masks applied. */
  input: number;
  inputRow: number;
  rows: number;
  dropped: boolean;
}

/** A `Gan` whose `step` runs the fused kernels; the tfjs variables are refreshed on demand. */
export class FusedGan extends Gan {
  readonly #memory: WebAssembly.Memory;
  readonly #heap: Float32Array;
  readonly #gemm4: Kernel;
  readonly #gemm1: Kernel;
  readonly #transpose: Kernel;
  readonly #dropoutKernel: Kernel;
  readonly #leakyBackward: Kernel;
  readonly #movingAverage: Kernel;
  readonly #adam: NonNullable<ReturnType<typeof adamKernel>>;
  readonly #G: Net;
  /** The discriminators (more than one for Dropout-GAN's ensemble). */
  readonly #Ds: Net[];
  /**
   * Real rows then fake rows, [2B][(dim + dClasses) * pack], each sample followed by its one-hot
   * label when D is conditioned: D reads both halves in one pass.
   */
  readonly #batch: number;
  readonly #z: number;
  readonly #ones: number;
  readonly #dOut: number;
  #t = 0;
  /** The tfjs variables are older than the fused memory. */
  #stale = false;

  constructor(config: ModelConfig, data: RealData) {
    super(config, data);
    const why = fusedUnsupported(config);
    if (why) throw new Error(`the fused step does not support ${why}`);
    const rows = config.batch * this.pack;
    const dRows = 2 * config.batch;
    const dim = data.dim;
    let bytes = 64; // a bias pointer of 0 means "no bias", so nothing lives there
    const alloc = (floats: number) => {
      const at = bytes;
      bytes += Math.ceil(floats / 4) * 16;
      return at;
    };
    const plan = (mlp: Mlp, inDim: number, maxRows: number, ema: boolean): Net => {
      let k = inDim;
      const layers = mlp.layers.map(({ kernel }) => {
        const out = kernel.shape[1]!;
        const nPad = Math.ceil(out / 8) * 8, kPad = Math.ceil(k / 8) * 8;
        const layer: Layer = {
          k,
          out,
          nPad,
          kPad,
          w: alloc(k * nPad),
          b: alloc(nPad),
          wt: alloc(nPad * kPad),
          gw: alloc(k * nPad),
          gb: alloc(nPad),
          mw: alloc(k * nPad),
          vw: alloc(k * nPad),
          mb: alloc(nPad),
          vb: alloc(nPad),
          emaW: ema ? alloc(k * nPad) : 0,
          emaB: ema ? alloc(nPad) : 0,
        };
        k = nPad;
        return layer;
      });
      const hidden = layers.slice(0, -1);
      const widest = Math.max(...layers.map((l) => Math.max(l.nPad, l.kPad)));
      return {
        layers,
        mlp,
        acts: hidden.map((l) => alloc(maxRows * l.nPad)),
        masks: hidden.map((l) => alloc(maxRows * l.nPad)),
        out: alloc(maxRows * layers[layers.length - 1].nPad),
        grads: [alloc(maxRows * widest), alloc(maxRows * widest)],
        input: 0,
        inputRow: 0,
        rows: 0,
        dropped: false,
      };
    };
    const gIn = config.latent + this.classes, sample = dim + this.dClasses;
    this.#G = plan(this.g, gIn, rows, config.ema > 0);
    this.#Ds = this.ds.map((d) => plan(d, sample * this.pack, dRows, false));
    this.#batch = alloc(2 * rows * sample);
    this.#z = alloc(rows * gIn);
    this.#ones = alloc(dRows);
    this.#dOut = alloc(dRows * 8);
    this.#memory = new WebAssembly.Memory({ initial: Math.ceil(bytes / 65536) });
    this.#heap = new Float32Array(this.#memory.buffer);
    const gemm = instantiateKernel(GEMM_WASM, this.#memory);
    const adam = adamKernel(this.#memory);
    if (!gemm || !adam) throw new Error("the fused step needs WebAssembly SIMD");
    this.#gemm4 = gemm.gemm4 as Kernel;
    this.#gemm1 = gemm.gemm1 as Kernel;
    this.#transpose = gemm.transpose as Kernel;
    this.#dropoutKernel = gemm.dropout as Kernel;
    this.#leakyBackward = gemm.leaky_backward as Kernel;
    this.#movingAverage = gemm.moving_average as Kernel;
    this.#adam = adam;
    this.#heap.fill(1, this.#ones / 4, this.#ones / 4 + dRows);
    this.#push();
  }

  /** A float view of `floats` floats at byte offset `at`. */
  #view(at: number, floats: number): Float32Array {
    return this.#heap.subarray(at / 4, at / 4 + floats);
  }

  /** C = act(A B + bias) for `rows` rows (gemm.wat); strides in bytes. */
  #mul(
    a: number,
    aRow: number,
    aCol: number,
    b: number,
    bRow: number,
    c: number,
    cRow: number,
    bias: number,
    rows: number,
    k: number,
    groups: number,
    act: boolean,
  ): void {
    const quads = rows >> 2, rest = rows & 3, slope = this.g.slope;
    if (quads) {
      this.#gemm4(a, aRow, aCol, b, bRow, c, cRow, bias, quads, k, groups, act ? 1 : 0, slope);
    }
    if (rest) {
      const done = quads * 4;
      this.#gemm1(
        a + done * aRow,
        aRow,
        aCol,
        b,
        bRow,
        c + done * cRow,
        cRow,
        bias,
        rest,
        k,
        groups,
        act ? 1 : 0,
        slope,
      );
    }
  }

  /** Training-mode forward pass of `net` on `rows` rows at `input` (rows `inputRow` bytes apart). */
  #forward(net: Net, input: number, inputRow: number, rows: number, rate: number, seed: number) {
    Object.assign(net, { input, inputRow, rows, dropped: rate > 0 });
    const last = net.layers.length - 1;
    net.layers.forEach((layer, l) => {
      const a = l === 0 ? input : net.acts[l - 1];
      const aRow = l === 0 ? inputRow : layer.k * 4;
      const c = l < last ? net.acts[l] : net.out;
      this.#mul(
        a,
        aRow,
        4,
        layer.w,
        layer.nPad * 4,
        c,
        layer.nPad * 4,
        layer.b,
        rows,
        layer.k,
        layer.nPad / 8,
        l < last,
      );
      if (l < last && rate > 0) this.#dropout(net.masks[l], c, rows, layer, rate, (seed + l) >>> 0);
    });
    if (net.mlp.outActivation === "tanh") {
      const y = this.#view(net.out, rows * net.layers[last].nPad);
      for (let i = 0; i < y.length; i++) y[i] = Math.tanh(y[i]);
    }
  }

  /** Draws hidden layer `layer`'s dropout mask into `mask` and applies it to its output `h`. */
  #dropout(mask: number, h: number, rows: number, layer: Layer, rate: number, seed: number): void {
    // u / 2^32 < rate  <=>  u < ceil(rate * 2^32) for an integer u, as fillDropoutMask decides.
    const threshold = Math.ceil(rate * 0x100000000);
    if (threshold <= 0xffffffff) {
      const keep = 1 / (1 - rate), rowBytes = layer.nPad * 4;
      this.#dropoutKernel(mask, h, rows, layer.out, rowBytes, seed, threshold, keep);
      return;
    }
    // A rate within 2^-32 of 1 drops every unit; the threshold does not fit 32 bits.
    const m = this.#view(mask, rows * layer.nPad), out = this.#view(h, rows * layer.nPad);
    fillDropoutMask(m, rows, layer.out, rate, seed, layer.nPad);
    for (let i = 0; i < out.length; i++) out[i] *= m[i];
  }

  /**
   * Backpropagates the gradient at `dOut` (rows x the last layer's nPad) through the last forward
   * pass of `net`: the weight gradients into each layer's gw/gb when `params`, and returns the
   * input gradient's pointer (rows x kPad of the first layer) when `input`.
   */
  #backward(net: Net, dOut: number, params: boolean, input: boolean): number {
    const rows = net.rows;
    let d = dOut;
    let turn = 0;
    for (let l = net.layers.length - 1; l >= 0; l--) {
      const layer = net.layers[l];
      const a = l === 0 ? net.input : net.acts[l - 1];
      const aRow = l === 0 ? net.inputRow : layer.k * 4;
      const dRow = layer.nPad * 4;
      if (params) {
        // dW = A^T dY: A read down its columns; db = 1^T dY.
        this.#mul(a, 4, aRow, d, dRow, layer.gw, dRow, 0, layer.k, rows, layer.nPad / 8, false);
        this.#mul(this.#ones, 0, 4, d, dRow, layer.gb, dRow, 0, 1, rows, layer.nPad / 8, false);
      }
      if (l === 0 && !input) break;
      // dA = dY W^T
      const dIn = net.grads[turn];
      turn = 1 - turn;
      this.#mul(
        d,
        dRow,
        4,
        layer.wt,
        layer.kPad * 4,
        dIn,
        layer.kPad * 4,
        0,
        rows,
        layer.nPad,
        layer.kPad / 8,
        false,
      );
      if (l > 0) {
        // Through the previous layer's dropout and LeakyReLU, as throughActivation in mlp.ts.
        const mask = net.masks[l - 1], dropped = net.dropped ? 1 : 0;
        this.#leakyBackward(dIn, a, mask, rows * layer.kPad, this.g.slope, dropped);
      }
      d = dIn;
    }
    return d;
  }

  /** One Adam update of every layer of `net` from its gw/gb, then W^T refreshed. */
  #update(net: Net, lr: number): void {
    const b1 = this.config.beta1, b2 = 0.999;
    const coefficients = {
      b1,
      b2,
      step: lr / (1 - b1 ** this.#t),
      inv: 1 / Math.sqrt(1 - b2 ** this.#t),
      eps: 1e-8,
    };
    for (const l of net.layers) {
      this.#adam({ w: l.w, g: l.gw, m: l.mw, v: l.vw, out: l.w }, l.k * l.nPad, coefficients);
      this.#adam({ w: l.b, g: l.gb, m: l.mb, v: l.vb, out: l.b }, l.nPad, coefficients);
      this.#transpose(l.w, l.wt, l.k, l.nPad, l.kPad * 4);
    }
  }

  override step(step: number): StepStats {
    const { batch: B, latent, seed, steps } = this.config;
    const { classes, dClasses, pack } = this;
    // One sample's columns in D's input (its label's one-hot after it), and a packed D row's.
    const rows = B * pack, dim = this.data.dim, sample = dim + dClasses, width = sample * pack;
    const gIn = latent + classes;
    const seeds = (draw: number) => mix32(seed, step, draw);
    const lr = this.learningRate(step);
    const gRate = rateAt(this.config.gDropout, step, steps);
    const dRate = rateAt(this.config.dDropout, step, steps);
    this.#t += 1;
    this.#stale = true;
    const G = this.#G;
    const fake = this.#batch + rows * sample * 4;

    // The same draws as the tfjs step: real labels are the batch's own, fake ones are drawn.
    const realBatch = dClasses ? this.data.batch(step) : undefined;
    const realLabels = classes ? this.data.labels(step, realBatch) : [];
    const fakeLabels = classes
      ? labelsFor(seeds(DRAW.fakeLabels), rows, classes, undefined, this.data.clusters?.weights)
      : [];
    const real = this.#view(this.#batch, rows * sample);
    if (realBatch) real.set(withLabels(realBatch, rows, dim, classes, realLabels));
    else this.data.batch(step, real);
    const z = this.#view(this.#z, rows * gIn);
    if (classes) {
      const noise = latentBatch(seeds(DRAW.noise), rows, latent);
      z.set(withLabels(noise, rows, latent, classes, fakeLabels));
    } else {
      latentBatch(seeds(DRAW.noise), rows, latent, z);
    }
    this.#forward(G, this.#z, gIn * 4, rows, gRate, seeds(DRAW.gMask));
    const gOut = G.layers[G.layers.length - 1].nPad;
    const y = this.#view(G.out, rows * gOut), f = this.#view(fake, rows * sample);
    if (dClasses) f.fill(0);
    for (let r = 0; r < rows; r++) {
      for (let j = 0; j < dim; j++) f[r * sample + j] = y[r * gOut + j];
      if (dClasses) f[r * sample + dim + fakeLabels[r]] = 1;
    }

    // Each discriminator: real and fake in one batch of 2B (packed) rows;
    // dLoss/dl = (sigmoid(l) - t) / B.
    const t = this.config.realTarget ?? 1;
    let dLoss = 0, dReal = 0, dFake = 0;
    this.#Ds.forEach((D, k) => {
      this.#forward(
        D,
        this.#batch,
        width * 4,
        2 * B,
        dRate,
        discriminatorSeed(seeds(DRAW.dMask), k),
      );
      const logits = this.#view(D.out, 2 * B * 8);
      const dOut = this.#view(this.#dOut, 2 * B * 8).fill(0);
      for (let r = 0; r < 2 * B; r++) {
        const l = logits[r * 8], p = sigmoid(l);
        const real = r < B;
        dOut[r * 8] = (p - (real ? t : 0)) / B;
        if (real) {
          dLoss += t * softplus(-l) + (1 - t) * softplus(l);
          dReal += p;
        } else {
          dLoss += softplus(l);
          dFake += p;
        }
      }
      this.#backward(D, this.#dOut, true, false);
      this.#update(D, lr);
    });

    // Generator: softplus(-D(G(z))) through the updated discriminators (Dropout-GAN: the mean
    // over those kept this step), back to G's output.
    const kept = this.keptDiscriminators(step);
    const keptCount = kept.filter((x) => x).length;
    const dy = this.#view(G.grads[1], rows * gOut).fill(0);
    let gLoss = 0;
    this.#Ds.forEach((D, k) => {
      if (!kept[k]) return;
      this.#forward(D, fake, width * 4, B, dRate, discriminatorSeed(seeds(DRAW.dMaskG), k));
      const gLogits = this.#view(D.out, B * 8);
      const dG = this.#view(this.#dOut, B * 8).fill(0);
      for (let r = 0; r < B; r++) {
        gLoss += softplus(-gLogits[r * 8]);
        dG[r * 8] = (sigmoid(gLogits[r * 8]) - 1) / (B * keptCount);
      }
      const dInput = this.#backward(D, this.#dOut, false, true);
      const kPad = D.layers[0].kPad;
      const dx = this.#view(dInput, B * kPad);
      // Back to G's rows: each packed sample's point columns (its label's are not G's output).
      for (let b = 0; b < B; b++) {
        for (let p = 0; p < pack; p++) {
          for (let j = 0; j < dim; j++) {
            dy[(b * pack + p) * gOut + j] += dx[b * kPad + p * sample + j];
          }
        }
      }
    });
    if (G.mlp.outActivation === "tanh") {
      for (let i = 0; i < dy.length; i++) dy[i] *= 1 - y[i] * y[i];
    }
    this.#backward(G, G.grads[1], true, false);
    this.#update(G, lr);
    if (this.config.ema > 0) {
      // updateMovingAverage's arithmetic, in the kernel (its JavaScript loop took 3% of a step).
      const decay = this.config.ema, rest = 1 - decay;
      for (const l of G.layers) {
        this.#movingAverage(l.emaW, l.w, l.k * l.nPad, decay, rest);
        this.#movingAverage(l.emaB, l.b, l.nPad, decay, rest);
      }
    }
    const nD = this.#Ds.length;
    return {
      dLoss: dLoss / (B * nD),
      gLoss: gLoss / (B * keptCount),
      dReal: dReal / (B * nD),
      dFake: dFake / (B * nD),
    };
  }

  /** Copies weights, Adam moments and the average from the tfjs variables into the memory. */
  #push(): void {
    this.#t = this.gAdam.t;
    const put = (net: Net, adam: { m: tf.Variable[]; v: tf.Variable[] }, ema?: Float32Array[]) => {
      net.layers.forEach((l, i) => {
        const [kernel, bias] = [net.mlp.variables[2 * i], net.mlp.variables[2 * i + 1]];
        const rows = kernel.shape[0];
        const place = (values: Float32Array, w: number, b: number, source: Float32Array) => {
          const W = this.#view(w, l.k * l.nPad).fill(0);
          for (let r = 0; r < rows; r++) {
            for (let c = 0; c < l.out; c++) W[r * l.nPad + c] = values[r * l.out + c];
          }
          this.#view(b, l.nPad).fill(0).set(source);
        };
        place(kernel.dataSync() as Float32Array, l.w, l.b, bias.dataSync() as Float32Array);
        place(
          adam.m[2 * i].dataSync() as Float32Array,
          l.mw,
          l.mb,
          adam.m[2 * i + 1].dataSync() as Float32Array,
        );
        place(
          adam.v[2 * i].dataSync() as Float32Array,
          l.vw,
          l.vb,
          adam.v[2 * i + 1].dataSync() as Float32Array,
        );
        if (ema) place(ema[2 * i], l.emaW, l.emaB, ema[2 * i + 1]);
        this.#view(l.wt, l.nPad * l.kPad).fill(0);
        this.#transpose(l.w, l.wt, l.k, l.nPad, l.kPad * 4);
      });
    };
    put(this.#G, this.gAdam, this.ema);
    this.#Ds.forEach((D, k) => put(D, this.dAdams[k]));
  }

  /** Copies the memory's state back into the tfjs variables (what checkpoints and saves read). */
  #pull(): void {
    if (!this.#stale) return;
    this.#stale = false;
    const take = (
      net: Net,
      adam: { m: tf.Variable[]; v: tf.Variable[]; t: number },
      ema?: Float32Array[],
    ) => {
      adam.t = this.#t;
      net.layers.forEach((l, i) => {
        const kernel = net.mlp.variables[2 * i];
        const rows = kernel.shape[0];
        const unpad = (w: number) => {
          const W = this.#view(w, l.k * l.nPad), out = new Float32Array(rows * l.out);
          for (let r = 0; r < rows; r++) {
            for (let c = 0; c < l.out; c++) out[r * l.out + c] = W[r * l.nPad + c];
          }
          return out;
        };
        const bias = (b: number) => this.#view(b, l.out).slice();
        const assign = (v: tf.Variable, values: Float32Array) =>
          tf.tidy(() => v.assign(tf.tensor(values, v.shape)));
        assign(kernel, unpad(l.w));
        assign(net.mlp.variables[2 * i + 1], bias(l.b));
        assign(adam.m[2 * i], unpad(l.mw));
        assign(adam.m[2 * i + 1], bias(l.mb));
        assign(adam.v[2 * i], unpad(l.vw));
        assign(adam.v[2 * i + 1], bias(l.vb));
        if (ema) {
          ema[2 * i].set(unpad(l.emaW));
          ema[2 * i + 1].set(bias(l.emaB));
        }
      });
    };
    take(this.#G, this.gAdam, this.ema);
    this.#Ds.forEach((D, k) => take(D, this.dAdams[k]));
  }

  /** Brings the tfjs variables (G, D, the optimizers, the average) up to date. */
  sync(): void {
    this.#pull();
  }

  override stateTensors(): ReturnType<Gan["stateTensors"]> {
    this.#pull();
    return super.stateTensors();
  }

  override restore(t: number, tensors: Parameters<Gan["restore"]>[1]): void {
    super.restore(t, tensors);
    this.#push();
    this.#stale = false;
  }

  override averagedGenerator(): ReturnType<Gan["averagedGenerator"]> {
    this.#pull();
    return super.averagedGenerator();
  }
}

function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

/** log(1 + e^x), without overflow. */
function softplus(x: number): number {
  return x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x));
}
