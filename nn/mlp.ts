/**
 * Hand-written forward and backward passes for the Dense + LeakyReLU + Dropout nets.
 *
 * Why not tfjs autodiff: its tape computes the gradient of every input of every op, including
 * the ones nobody needs (the discriminator's weight gradients during the generator's update, the
 * gradient with respect to the images), and its Dense backprop asks the wasm backend for
 * transposed matMuls. Writing the few lines of backprop by hand skips that work; the result is
 * checked against tfjs autodiff to 1e-5 in tests/mlp_test.ts.
 *
 * ```ts
 * const trace = forward(net, x, seed);            // training mode: dropout masks from `seed`
 * const y = forward(mlpOfModel(model)!, x, 0).output; // inference: the view has dropout 0
 * const { grads } = backward(net, trace, dLoss);  // grads in `net.variables` order
 * ```
 */
import * as tf from "@tensorflow/tfjs-core";
import type * as tfl from "@tensorflow/tfjs-layers";
import { float32View, tensorFrom } from "../tfjs/backend.ts";
import { Rng } from "../random/seeded.ts";

export interface Mlp {
  /** Dense layers in order: kernel [in, out] and bias [out]. */
  layers: { kernel: tf.Variable; bias: tf.Variable }[];
  /** The same variables flattened (kernel, bias, kernel, bias, ...), the optimiser's order. */
  variables: tf.Variable[];
  /** Dropout rate after each hidden layer (0 = none). */
  dropout: number;
  /** LeakyReLU slope for negative inputs in hidden layers. */
  slope: number;
  outActivation: "tanh" | "linear";
}

/** Views a Sequential built by `nets.ts` as an `Mlp` (sharing its variables). */
export function mlpOf(
  model: tfl.LayersModel,
  options: { dropout: number; slope: number; outActivation: "tanh" | "linear" },
): Mlp {
  const dense = model.layers.filter((l) => l.getClassName() === "Dense");
  const layers = dense.map((l) => {
    const [kernel, bias] = l.trainableWeights.map((w) => w.read() as tf.Variable);
    return { kernel, bias };
  });
  return { layers, variables: layers.flatMap((l) => [l.kernel, l.bias]), ...options };
}

/**
 * The `Mlp` view (dropout off) of a model shaped as nets.ts builds them: [Dense (linear) ->
 * LeakyReLU -> Dropout?] per hidden layer, then Dense (tanh or linear). Any other model (a
 * convolutional generator brought in by `deno task import`) gives undefined.
 */
export function mlpOfModel(model: tfl.LayersModel): Mlp | undefined {
  // Dropout is the identity at inference; what is left must read Dense, LeakyReLU, ..., Dense.
  const layers = model.layers.filter((l) => l.getClassName() !== "Dropout");
  const slopes = new Set<number>();
  for (const [i, layer] of layers.entries()) {
    const kind = i % 2 === 0 ? "Dense" : "LeakyReLU";
    if (layer.getClassName() !== kind) return undefined;
    const config = layer.getConfig();
    if (kind === "LeakyReLU") slopes.add(config.alpha as number);
    else if (i < layers.length - 1 && config.activation !== "linear") return undefined;
  }
  const out = layers.at(-1)?.getConfig().activation;
  if (layers.length % 2 === 0 || slopes.size > 1 || (out !== "tanh" && out !== "linear")) {
    return undefined;
  }
  return mlpOf(model, { dropout: 0, slope: [...slopes][0] ?? 0, outActivation: out });
}

/** What the backward pass needs from the forward pass. */
export interface Trace {
  /** The input of each Dense layer (for the hidden ones: after activation and dropout). */
  inputs: tf.Tensor2D[];
  /** The scaled dropout mask applied after each hidden layer, if any. */
  masks: (tf.Tensor2D | undefined)[];
  output: tf.Tensor2D;
}

/**
 * An inverted-dropout mask: each entry is 0 with probability `rate`, else 1 / (1 - rate), drawn
 * from `seed` so that masks are repeatable. Entry i is dropped when the i-th draw of
 * `new Rng(seed)` is below `rate`; the generator is inlined here because a mask is drawn for
 * every hidden layer at every step (20 ns -> 3 ns per entry, same values).
 */
export function dropoutMask(rows: number, cols: number, rate: number, seed: number): tf.Tensor2D {
  return tensorFrom(
    [rows, cols],
    (values) => fillDropoutMask(values, rows, cols, rate, seed),
  ) as tf.Tensor2D;
}

/**
 * Writes the mask of `dropoutMask(rows, cols, rate, seed)` into `values`, row r at
 * `r * stride` (default `cols`; a wider stride leaves the padding as it is).
 */
export function fillDropoutMask(
  values: Float32Array,
  rows: number,
  cols: number,
  rate: number,
  seed: number,
  stride = cols,
): void {
  const keep = 1 / (1 - rate);
  // u / 2^32 < rate  <=>  u < rate * 2^32, exactly, in float64.
  const threshold = rate * 0x100000000;
  const rng = new Rng(seed);
  for (let r = 0; r < rows; r++) {
    const row = r * stride;
    for (let c = 0; c < cols; c++) values[row + c] = rng.nextU32() < threshold ? 0 : keep;
  }
}

/** Training-mode forward pass; hidden layer l's mask is drawn from seed `maskSeed + l`. */
export function forward(net: Mlp, x: tf.Tensor2D, maskSeed: number): Trace {
  const inputs: tf.Tensor2D[] = [];
  const masks: (tf.Tensor2D | undefined)[] = [];
  let h = x;
  const last = net.layers.length - 1;
  net.layers.forEach(({ kernel, bias }, l) => {
    inputs.push(h);
    if (l < last) {
      h = tf.fused.matMul({
        a: h,
        b: kernel,
        bias,
        activation: "leakyrelu",
        leakyreluAlpha: net.slope,
      }) as tf.Tensor2D;
      if (net.dropout > 0) {
        const mask = dropoutMask(h.shape[0], h.shape[1], net.dropout, (maskSeed + l) >>> 0);
        masks.push(mask);
        h = tf.mul(h, mask);
      } else {
        masks.push(undefined);
      }
    } else {
      h = tf.fused.matMul({ a: h, b: kernel, bias }) as tf.Tensor2D;
      // tanh(x) = 2 sigmoid(2x) - 1: the wasm Tanh kernel is ~10x slower than its Sigmoid
      // (1.3 ms vs 0.12 ms for 64 x 784, measured); the difference is below 1e-6.
      if (net.outActivation === "tanh") h = tf.sub(tf.mul(tf.sigmoid(tf.mul(h, 2)), 2), 1);
    }
  });
  return { inputs, masks, output: h };
}

/**
 * The gradient through dropout (the same mask) and LeakyReLU: `dOut * mask * (input > 0 ? 1 :
 * slope)`, where `input` is the layer's output after dropout. After dropout an input is
 * positive exactly where the pre-activation was positive and the unit was kept; where it was
 * dropped the mask zeroes the gradient anyway. On backends with memory views this is one
 * JavaScript pass written into `dOut` (a fresh product nobody else holds); the tfjs ops path
 * (four kernel launches) is kept for the others. Both give identical values.
 */
export function throughActivation(
  dOut: tf.Tensor2D,
  input: tf.Tensor2D,
  mask: tf.Tensor2D | undefined,
  slope: number,
): tf.Tensor2D {
  const d = float32View(dOut), x = float32View(input);
  const m = mask ? float32View(mask) : undefined;
  if (d && x && (m || !mask)) {
    // Products of two float32 values are exact in float64, so rounding on each store gives
    // exactly float32 arithmetic, as the kernels do.
    const s = Math.fround(slope);
    if (m) {
      for (let i = 0; i < d.length; i++) {
        d[i] = x[i] > 0 ? d[i] * m[i] : Math.fround(d[i] * m[i]) * s;
      }
    } else {
      for (let i = 0; i < d.length; i++) if (!(x[i] > 0)) d[i] *= s;
    }
    return dOut;
  }
  const masked = mask ? tf.mul(dOut, mask) : dOut;
  return tf.mul(masked, tf.step(input, slope));
}

/**
 * Column sums of a [rows, cols] tensor (the bias gradient). One JavaScript pass over backend
 * memory where possible: the wasm Sum over axis 0 transposes first (0.24 ms for 128 x 256).
 */
function columnSums(d: tf.Tensor2D): tf.Tensor {
  const [rows, cols] = d.shape;
  if (!float32View(d)) return tf.sum(d, 0);
  return tensorFrom([cols], (out) => {
    const x = float32View(d)!; // read after the output is allocated: allocation may move memory
    out.fill(0);
    for (let r = 0; r < rows; r++) {
      const row = r * cols;
      for (let c = 0; c < cols; c++) out[c] += x[row + c];
    }
  });
}

export interface BackwardOptions {
  /** Compute the gradients of the net's variables (default true). */
  params?: boolean;
  /** Compute the gradient with respect to the net's input (default false). */
  input?: boolean;
}

/**
 * Backpropagates `dOutput` (dLoss/dOutput) through the traced pass. Returns the variable
 * gradients in `net.variables` order and/or the input gradient.
 */
export function backward(
  net: Mlp,
  trace: Trace,
  dOutput: tf.Tensor2D,
  options: BackwardOptions = {},
): { grads: tf.Tensor[]; dInput?: tf.Tensor2D } {
  const wantParams = options.params ?? true;
  const grads: tf.Tensor[] = new Array(net.variables.length);
  let d = dOutput;
  if (net.outActivation === "tanh") d = tf.mul(d, tf.sub(1, tf.square(trace.output)));
  for (let l = net.layers.length - 1; l >= 0; l--) {
    const input = trace.inputs[l];
    if (wantParams) {
      grads[2 * l] = tf.matMul(input, d, true, false);
      grads[2 * l + 1] = columnSums(d);
    }
    if (l === 0 && !options.input) break;
    const dIn = tf.matMul(d, net.layers[l].kernel, false, true) as tf.Tensor2D;
    d = l > 0 ? throughActivation(dIn, input, trace.masks[l - 1], net.slope) : dIn;
  }
  return { grads, dInput: options.input ? d : undefined };
}
