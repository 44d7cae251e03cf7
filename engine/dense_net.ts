/**
 * A small inference engine for the generators edgegan saves: a tfjs Layers `Sequential` of
 * Dense, LeakyReLU and Dropout layers, run by one WASM SIMD kernel with no tfjs at all.
 *
 * Why: the server's cold start was dominated by importing tfjs (core ~90 ms, layers ~45 ms,
 * wasm backend start ~25 ms, measured with bench/); a model this simple needs one matrix kernel.
 * The kernels (engine/kernels/dense.wat, compiled by wabt) compute 8 columns of 4 rows, or of
 * one row, per pass over the inner dimension, starting from the bias and adding products in
 * input order, with the activation (LeakyReLU, ReLU, linear) fused; tanh and sigmoid run in JavaScript on the
 * last layer's outputs. Weights are stored once, padded with zeros to whole 8-column groups, so
 * the kernel has no edge cases and padded units stay exactly 0 through every layer.
 *
 * Dropout layers are skipped: this is inference. Results match tfjs `model.predict` to float
 * rounding (tests/dense_net_test.ts checks 1e-5 on the shipped models).
 *
 * ```ts
 * const net = DenseNet.fromLayers(modelJson.modelTopology, manifestEntries, weightBytes);
 * const out = net.predict(inputs, n); // n x outputWidth, row-major
 * ```
 */
import { instantiateKernel } from "./kernels/base64.ts";
import { DENSE_WASM } from "./kernels/kernels.ts";
import type { WeightSpec } from "../format/model_files.ts";

/** A topology or weights this engine cannot run; the message says what and why. */
export class UnsupportedModelError extends Error {
  override name = "UnsupportedModelError";
}

type Activation = "linear" | "relu" | "leaky" | "tanh" | "sigmoid";

interface Layer {
  name: string;
  inDim: number;
  outDim: number;
  activation: Activation;
  /** LeakyReLU slope for negative inputs (0 for ReLU). */
  alpha: number;
}

const ROWS = 4, COLS = 8;
/** Batch rows the activation buffers are sized for up front (the server's largest batch). */
const RESERVED_ROWS = 256;

/** dense4 / dense1 (kernels/dense.wat): y = act(x W + b) for groups of 4 rows, or single rows. */
type DenseKernel = (
  x: number,
  w: number,
  b: number,
  y: number,
  rows: number,
  k: number,
  colGroups: number,
  act: number,
  alpha: number,
) => void;

interface Placed extends Layer {
  /** Byte offsets of the padded kernel, packed [cols][k][8], and bias [cols*8]. */
  w: number;
  b: number;
  /** 8-column groups of the output (padded width = cols * 8). */
  cols: number;
  /** Input row width the kernel reads: the previous layer's padded width (or inDim). */
  k: number;
}

const PAGE = 65536;
const f32 = (x: unknown) => typeof x === "number" && Number.isFinite(x);

/** Reads a tfjs Layers Sequential topology into Dense layers with fused activations. */
function parseTopology(topology: unknown): Layer[] {
  const t = topology as { class_name?: unknown; config?: unknown };
  if (t?.class_name !== "Sequential") {
    throw new UnsupportedModelError(
      `model class ${JSON.stringify(t?.class_name)} is not supported (only Sequential)`,
    );
  }
  const config = t.config as { layers?: unknown } | unknown[];
  const entries = (Array.isArray(config) ? config : (config as { layers?: unknown })?.layers) as
    | { class_name: string; config: Record<string, unknown> }[]
    | undefined;
  if (!Array.isArray(entries) || entries.length === 0) {
    throw new UnsupportedModelError("the Sequential model has no layers");
  }
  const layers: Layer[] = [];
  let width: number | undefined;
  for (const entry of entries) {
    const c = entry?.config ?? {};
    const shape = c.batch_input_shape as unknown[] | undefined;
    if (width === undefined && Array.isArray(shape)) {
      if (shape.length !== 2 || !Number.isInteger(shape[1])) {
        throw new UnsupportedModelError(`input shape ${JSON.stringify(shape)} is not [null, n]`);
      }
      width = shape[1] as number;
    }
    switch (entry?.class_name) {
      case "InputLayer":
      case "Dropout": // inference: identity
        break;
      case "Dense": {
        const activation = c.activation ?? "linear";
        if (!["linear", "relu", "tanh", "sigmoid"].includes(activation as string)) {
          throw new UnsupportedModelError(
            `layer ${c.name}: activation ${JSON.stringify(activation)} is not supported`,
          );
        }
        if (c.use_bias === false) throw new UnsupportedModelError(`layer ${c.name}: has no bias`);
        if (width === undefined) throw new UnsupportedModelError("the input width is not given");
        const units = c.units;
        if (!Number.isInteger(units) || (units as number) < 1) {
          throw new UnsupportedModelError(`layer ${c.name}: units must be a positive integer`);
        }
        layers.push({
          name: String(c.name),
          inDim: width,
          outDim: units as number,
          activation: activation === "relu" ? "leaky" : activation as Activation,
          alpha: 0,
        });
        width = units as number;
        break;
      }
      case "LeakyReLU": {
        const last = layers.at(-1);
        const alpha = c.alpha ?? 0.3;
        if (!last || last.activation !== "linear" || !f32(alpha) || alpha as number < 0) {
          throw new UnsupportedModelError(
            `layer ${c.name}: LeakyReLU must follow a linear Dense layer, with alpha >= 0`,
          );
        }
        last.activation = "leaky";
        last.alpha = alpha as number;
        break;
      }
      default:
        throw new UnsupportedModelError(
          `layer type ${
            JSON.stringify(entry?.class_name)
          } is not supported (Dense, LeakyReLU, Dropout)`,
        );
    }
  }
  if (layers.length === 0) throw new UnsupportedModelError("the model has no Dense layer");
  return layers;
}

export class DenseNet {
  /** Version of the engine's arithmetic; bump when results may change in any bit. */
  static readonly ENGINE = "d2";
  readonly inDim: number;
  readonly outDim: number;
  readonly #layers: Placed[];
  readonly #memory: WebAssembly.Memory;
  readonly #dense4: DenseKernel;
  readonly #dense1: DenseKernel;
  /** tanh in place on a run of floats (a rational approximation; within 4e-7). */
  readonly #tanh: (at: number, count: number) => void;
  /** First free byte after the weights: activation buffers start here. */
  readonly #heapStart: number;
  /** Bytes of one activation row: the widest layer input or (padded) output. */
  readonly #rowBytes: number;

  private constructor(layers: Layer[], weights: Map<string, Float32Array>) {
    this.inDim = layers[0].inDim;
    this.outDim = layers.at(-1)!.outDim;
    const placed: Placed[] = [];
    let offset = 0, k = this.inDim;
    for (const layer of layers) {
      const cols = Math.ceil(layer.outDim / COLS);
      placed.push({ ...layer, w: offset, b: offset + k * cols * 32, cols, k });
      offset += (k + 1) * cols * 32;
      k = cols * COLS;
    }
    this.#layers = placed;
    this.#heapStart = offset;
    this.#rowBytes = 4 * Math.max(this.inDim, ...placed.map((l) => l.cols * COLS));
    // Room for the weights and for batches up to RESERVED_ROWS, so a server's memory does not
    // grow under load; bigger batches grow it once.
    // The unpacked kernels pass through the activation area first (see below).
    const widest = Math.max(...layers.map((l) => l.inDim * l.outDim * 4));
    const reserved = offset + Math.max(2 * this.#bufferBytes(RESERVED_ROWS), widest);
    this.#memory = new WebAssembly.Memory({ initial: Math.ceil(reserved / PAGE) });
    const kernels = instantiateKernel(DENSE_WASM, this.#memory);
    if (!kernels) throw new UnsupportedModelError("this runtime cannot run WebAssembly SIMD");
    this.#dense4 = kernels.dense4 as DenseKernel;
    this.#dense1 = kernels.dense1 as DenseKernel;
    this.#tanh = kernels.tanh as (at: number, count: number) => void;
    const pack = kernels.pack as (
      src: number,
      dst: number,
      inDim: number,
      outDim: number,
      k: number,
    ) => void;
    const heap = new Float32Array(this.#memory.buffer);
    for (const l of placed) {
      const kernel = weights.get(`${l.name}/kernel`), bias = weights.get(`${l.name}/bias`);
      if (!kernel || kernel.length !== l.inDim * l.outDim) {
        throw new UnsupportedModelError(
          `weights for ${l.name}/kernel [${l.inDim}, ${l.outDim}] missing`,
        );
      }
      if (!bias || bias.length !== l.outDim) {
        throw new UnsupportedModelError(`weights for ${l.name}/bias [${l.outDim}] missing`);
      }
      // Packed by 8-column group, then input row, so the kernels read weights sequentially:
      // copied as they are to the (still unused) activation area, then placed by `pack`.
      heap.set(kernel, offset / 4);
      pack(offset, l.w, l.inDim, l.outDim, l.k);
      heap.set(bias, l.b / 4);
    }
  }

  /**
   * Builds the engine from `model.json`'s topology, its weights manifest entries and the
   * concatenated weight bytes. Throws UnsupportedModelError for anything else.
   */
  static fromLayers(topology: unknown, specs: WeightSpec[], bytes: Uint8Array): DenseNet {
    const layers = parseTopology(topology);
    const weights = new Map<string, Float32Array>();
    let offset = 0;
    for (const spec of specs) {
      if (spec.dtype !== "float32") {
        throw new UnsupportedModelError(`weight ${spec.name}: dtype ${spec.dtype} (only float32)`);
      }
      const count = spec.shape.reduce((a, b) => a * b, 1);
      if (offset + 4 * count > bytes.length) {
        throw new UnsupportedModelError(`weights end before ${spec.name}`);
      }
      // A view when 4-byte aligned (fresh large copies cost milliseconds in page faults at
      // start-up); a copy otherwise.
      const at = bytes.byteOffset + offset;
      weights.set(
        spec.name,
        at % 4 === 0
          ? new Float32Array(bytes.buffer, at, count)
          : new Float32Array(bytes.slice(offset, offset + 4 * count).buffer),
      );
      offset += 4 * count;
    }
    if (offset !== bytes.length) {
      throw new UnsupportedModelError(`weights have ${bytes.length - offset} unused bytes`);
    }
    return new DenseNet(layers, weights);
  }

  /** Bytes of one activation buffer for `rows` rows. */
  #bufferBytes(rows: number): number {
    return Math.ceil(rows / ROWS) * ROWS * this.#rowBytes;
  }

  /** Bytes of WebAssembly memory held (weights plus the largest batch so far). */
  get memoryBytes(): number {
    return this.#memory.buffer.byteLength;
  }

  /** Runs the net on `n` input rows (row-major, `inDim` each); returns n x outDim values. */
  predict(inputs: Float32Array, n: number): Float32Array {
    if (!Number.isInteger(n) || n < 1 || inputs.length !== n * this.inDim) {
      throw new RangeError(`predict: expected ${n} rows of ${this.inDim} values`);
    }
    const rows = Math.ceil(n / ROWS) * ROWS;
    const bufferBytes = this.#bufferBytes(rows);
    // Two ping-pong activation buffers after the weights.
    const a = this.#heapStart, b = a + bufferBytes;
    const needed = b + bufferBytes;
    if (needed > this.#memory.buffer.byteLength) {
      this.#memory.grow(Math.ceil((needed - this.#memory.buffer.byteLength) / PAGE));
    }
    let heap = new Float32Array(this.#memory.buffer);
    heap.set(inputs, a / 4);
    // Whole groups of 4 rows share each weight load; the rest (all of n = 1) run row by row.
    // Both compute a row identically, so a sample does not depend on its batch.
    const groups = Math.floor(n / ROWS), rest = n - groups * ROWS;
    let x = a, y = b;
    for (const l of this.#layers) {
      const act = l.activation === "leaky" ? 1 : 0;
      if (groups) this.#dense4(x, l.w, l.b, y, groups, l.k, l.cols, act, l.alpha);
      if (rest) {
        const done = groups * ROWS;
        const xRest = x + done * l.k * 4, yRest = y + done * l.cols * COLS * 4;
        this.#dense1(xRest, l.w, l.b, yRest, rest, l.k, l.cols, act, l.alpha);
      }
      if (l.activation === "tanh" || l.activation === "sigmoid") {
        if (l.activation === "tanh") {
          this.#tanh(y, n * l.cols * COLS);
        } else {
          heap = new Float32Array(this.#memory.buffer);
          const end = y / 4 + n * l.cols * COLS;
          for (let i = y / 4; i < end; i++) heap[i] = 1 / (1 + Math.exp(-heap[i]));
        }
      }
      [x, y] = [y, x];
    }
    heap = new Float32Array(this.#memory.buffer);
    const last = this.#layers.at(-1)!, stride = last.cols * COLS;
    const out = new Float32Array(n * this.outDim);
    for (let i = 0; i < n; i++) {
      out.set(heap.subarray(x / 4 + i * stride, x / 4 + i * stride + this.outDim), i * this.outDim);
    }
    return out;
  }
}
