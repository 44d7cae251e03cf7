/**
 * A small inference engine for the generators edgegan saves: a tfjs Layers `Sequential` of
 * Dense, LeakyReLU and Dropout layers, run by one WASM SIMD kernel with no tfjs at all.
 *
 * Why: the server's cold start was dominated by importing tfjs (core ~90 ms, layers ~45 ms,
 * wasm backend start ~25 ms, measured with bench/); a model this simple needs one matrix kernel.
 * The kernel (assembled in engine/wasm_asm.ts) computes a block of 4 rows x 8 columns per pass
 * over the inner dimension, starting from the bias and adding products in input order, with
 * the activation (LeakyReLU, ReLU, linear) fused; tanh and sigmoid run in JavaScript on the
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
import { F32, I32, instantiate, type KernelSpec, op, V128 } from "./wasm_asm.ts";

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

export interface WeightSpec {
  name: string;
  shape: number[];
  dtype: string;
}

const { get, set, i32 } = op;
const ROWS = 4, COLS = 8;
/** Batch rows the activation buffers are sized for up front (the server's largest batch). */
const RESERVED_ROWS = 256;

/**
 * dense(x, w, b, y, rowGroups, K, colGroups, act, alpha): y = act(x W + b) for rowGroups*4 rows,
 * with x [rows, K] (row stride K), W packed as [colGroups][K][8], b [colGroups*8], y [rows, colGroups*8];
 * pointers in bytes. act 1 applies max(v, alpha*v) (LeakyReLU; ReLU with alpha 0).
 */
const DENSE: KernelSpec = (() => {
  const [X, W, B, Y, ROWG, K, COLG, ACT, ALPHA] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const [R, J, KK, WP, XP, KX, NP, YP] = [9, 10, 11, 12, 13, 14, 15, 16];
  const ACC = 17; // 8 accumulators: row r, half h at ACC + 2r + h
  const [W0, W1, XS, AL] = [25, 26, 27, 28];
  const ROWP = [13, 29, 30, 31]; // x row pointers: XP, then XP + KX, + 2 KX, + 3 KX
  const acc = (r: number, h: number) => ACC + 2 * r + h;
  const everyAcc = (f: (a: number) => number[]) =>
    [0, 1, 2, 3].flatMap((r) => [0, 1].flatMap((h) => f(acc(r, h))));
  const body = [
    // KX = K*4 (bytes per input row), NP = colGroups*32 (bytes per weight/output row)
    ...get(K),
    ...i32(4),
    ...op.i32Mul,
    ...set(KX),
    ...get(COLG),
    ...i32(32),
    ...op.i32Mul,
    ...set(NP),
    ...get(ALPHA),
    ...op.f32x4Splat,
    ...set(AL),
    ...i32(0),
    ...set(R),
    ...op.block,
    ...op.loop, // rows, 4 at a time
    ...get(R),
    ...get(ROWG),
    ...op.i32LtU,
    ...op.i32Eqz,
    ...op.brIf(1),
    ...i32(0),
    ...set(J),
    ...op.block,
    ...op.loop, // columns, 8 at a time
    ...get(J),
    ...get(COLG),
    ...op.i32LtU,
    ...op.i32Eqz,
    ...op.brIf(1),
    // accumulators start at the bias
    ...[0, 1].flatMap((h) => [
      ...get(B),
      ...get(J),
      ...i32(32),
      ...op.i32Mul,
      ...op.i32Add,
      ...op.v128Load(16 * h),
      ...set(acc(0, h)),
    ]),
    ...[1, 2, 3].flatMap((r) => [0, 1].flatMap((h) => [...get(acc(0, h)), ...set(acc(r, h))])),
    // WP = W + J*K*32 (W is packed by column group: [group][k][8]); XP = X + R*4*KX
    ...get(W),
    ...get(J),
    ...get(KX),
    ...i32(8),
    ...op.i32Mul,
    ...op.i32Mul,
    ...op.i32Add,
    ...set(WP),
    ...get(X),
    ...get(R),
    ...i32(4),
    ...op.i32Mul,
    ...get(KX),
    ...op.i32Mul,
    ...op.i32Add,
    ...set(XP),
    ...[1, 2, 3].flatMap((r) => [...get(ROWP[r - 1]), ...get(KX), ...op.i32Add, ...set(ROWP[r])]),
    ...get(K),
    ...set(KK),
    ...op.block,
    ...op.loop, // inner dimension
    ...get(KK),
    ...op.i32Eqz,
    ...op.brIf(1),
    ...get(WP),
    ...op.v128Load(0),
    ...set(W0),
    ...get(WP),
    ...op.v128Load(16),
    ...set(W1),
    ...[0, 1, 2, 3].flatMap((r) => [
      // XS = splat(x[row r, k])
      ...get(ROWP[r]),
      ...op.load32Splat(0),
      ...set(XS),
      ...[0, 1].flatMap((h) => [
        ...get(acc(r, h)),
        ...get(XS),
        ...get(h === 0 ? W0 : W1),
        ...op.f32x4Mul,
        ...op.f32x4Add,
        ...set(acc(r, h)),
      ]),
    ]),
    ...get(WP),
    ...i32(32),
    ...op.i32Add,
    ...set(WP),
    ...ROWP.flatMap((p) => [...get(p), ...i32(4), ...op.i32Add, ...set(p)]),
    ...get(KK),
    ...i32(1),
    ...op.i32Sub,
    ...set(KK),
    ...op.br(0),
    ...op.end,
    ...op.end,
    // activation
    ...get(ACT),
    ...op.if,
    ...everyAcc((
      a,
    ) => [...get(a), ...get(a), ...get(AL), ...op.f32x4Mul, ...op.f32x4Max, ...set(a)]),
    ...op.end,
    // store: YP = Y + R*4*NP + J*32
    ...get(Y),
    ...get(R),
    ...i32(4),
    ...op.i32Mul,
    ...get(NP),
    ...op.i32Mul,
    ...op.i32Add,
    ...get(J),
    ...i32(32),
    ...op.i32Mul,
    ...op.i32Add,
    ...set(YP),
    ...[0, 1, 2, 3].flatMap((r) => [
      // row r's address in WP (free after the inner loop), then both halves
      ...get(YP),
      ...(r === 0 ? [] : [...get(NP), ...i32(r), ...op.i32Mul, ...op.i32Add]),
      ...set(WP),
      ...get(WP),
      ...get(acc(r, 0)),
      ...op.v128Store(0),
      ...get(WP),
      ...get(acc(r, 1)),
      ...op.v128Store(16),
    ]),
    ...get(J),
    ...i32(1),
    ...op.i32Add,
    ...set(J),
    ...op.br(0),
    ...op.end,
    ...op.end,
    ...get(R),
    ...i32(1),
    ...op.i32Add,
    ...set(R),
    ...op.br(0),
    ...op.end,
    ...op.end,
  ];
  return {
    params: [I32, I32, I32, I32, I32, I32, I32, I32, F32],
    locals: [...Array(8).fill(I32), ...Array(12).fill(V128), I32, I32, I32],
    body,
    exportName: "dense",
  };
})();

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
  static readonly ENGINE = "d1";
  readonly inDim: number;
  readonly outDim: number;
  readonly #layers: Placed[];
  readonly #memory: WebAssembly.Memory;
  readonly #dense: (...args: number[]) => void;
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
    const reserved = offset + 2 * this.#bufferBytes(RESERVED_ROWS);
    this.#memory = new WebAssembly.Memory({ initial: Math.ceil(reserved / PAGE) });
    const dense = instantiate(DENSE, this.#memory);
    if (!dense) throw new UnsupportedModelError("this runtime cannot run WebAssembly SIMD");
    this.#dense = dense;
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
      // Packed by 8-column group, then input row: the kernel reads its weights sequentially.
      for (let i = 0; i < l.inDim; i++) {
        for (let j = 0; j < l.outDim; j++) {
          heap[l.w / 4 + ((j >> 3) * l.k + i) * COLS + (j & 7)] = kernel[i * l.outDim + j];
        }
      }
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
    heap.fill(0, a / 4 + inputs.length, a / 4 + rows * this.inDim);
    let x = a, y = b;
    for (const l of this.#layers) {
      this.#dense(
        x,
        l.w,
        l.b,
        y,
        rows / ROWS,
        l.k,
        l.cols,
        l.activation === "leaky" ? 1 : 0,
        l.alpha,
      );
      if (l.activation === "tanh" || l.activation === "sigmoid") {
        heap = new Float32Array(this.#memory.buffer);
        const end = y / 4 + rows * l.cols * COLS;
        if (l.activation === "tanh") {
          for (let i = y / 4; i < end; i++) heap[i] = Math.tanh(heap[i]);
        } else {
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
