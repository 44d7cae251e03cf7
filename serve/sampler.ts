/**
 * From a loaded generator to response bodies. Sampling is a pure function of (model, seed, n):
 * `generate` runs the net with dropout off on `latentBatch(seed, n)`.
 *
 * ```ts
 * const sampler = new Sampler(await loadRunner("models/mnist"));
 * const body = sampler.json({ seed: 42 }, sampler.generate(42, 4), 4); // bytes of '{"model":…,"seed":42,…}'
 * ```
 */
import type { GeneratorRunner } from "../engine/runner.ts";
import { generatorInputs, type InputSpec, inputSpec } from "../format/generator_metadata.ts";
import { withLabels } from "../random/seeded.ts";
import { imageGrid, toPixels } from "../image/pixels.ts";
import { SCATTER_SIZE, scatterRaster } from "../image/scatter.ts";
import { MIXTURES } from "../datasets/mixtures.ts";

/** The PNG codec, imported on first use (it pulls in node:zlib: 35-70 ms off the cold start). */
let png: Promise<typeof import("../image/png.ts")> | undefined;
const encoder = new TextEncoder();

function concat(a: Uint8Array, b: Uint8Array): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
export function loadPngEncoder(): Promise<typeof import("../image/png.ts")> {
  return png ??= import("../image/png.ts");
}

/** The JSON body of GET /sample. */
export interface SampleBody {
  /** "<name>@<first 12 hex digits of the weights' sha256>". */
  model: string;
  /** /sample: the seed; /interpolate: from, to and steps. */
  seed?: number;
  from?: number;
  to?: number;
  steps?: number;
  n: number;
  /** Shape of one sample, e.g. [28, 28]. */
  shape: number[];
  /** "uint8": integers 0..255 (0 = black = -1, 255 = white = +1); "float32": raw outputs. */
  encoding: "uint8" | "float32";
  /** Bounds of the values, or null when unbounded. */
  range: [number, number] | null;
  /** Conditional models: the label of each sample. */
  labels?: number[];
  /** Self-conditioned models: the cluster each sample was drawn from. */
  clusters?: number[];
  /** n arrays of the sample's values, row-major. */
  samples: number[][];
}

export class Sampler {
  readonly id: string;
  readonly isImage: boolean;
  /** Whether each sample is a 2-D point (the mixtures' models): PNG is then a scatter plot. */
  readonly isPoints: boolean;
  /** Values in one sample (e.g. 784). */
  readonly sampleSize: number;
  readonly #loaded: GeneratorRunner;

  constructor(loaded: GeneratorRunner) {
    this.#loaded = loaded;
    this.id = loaded.id;
    const { outputShape, outputRange } = loaded.metadata;
    this.sampleSize = outputShape.reduce((a, b) => a * b, 1);
    this.isImage = outputShape.length === 2 && outputRange !== null;
    this.isPoints = outputShape.length === 1 && outputShape[0] === 2;
  }

  get metadata() {
    return this.#loaded.metadata;
  }

  /** Raw generator output for (seed, n), row-major. */
  generate(seed: number, n: number, label?: number): Float32Array {
    return this.predict(generatorInputs(this.spec, seed, n, label), n);
  }

  /** The inference engine and its version, e.g. "d2" (part of ETags). */
  get engine(): string {
    return this.#loaded.engine;
  }

  /** Bytes of memory the model holds (weights and buffers). */
  get memoryBytes(): number {
    return this.#loaded.memoryBytes;
  }

  /** Latent size and label classes (0 for an unconditional model). */
  get spec(): InputSpec {
    return inputSpec(this.#loaded.metadata);
  }

  /**
   * The input rows for `latents` (n rows): for a conditional model each row gets the one-hot
   * code of its label (`labels` is ignored for an unconditional model).
   */
  inputs(latents: Float32Array, n: number, labels: number[]): Float32Array {
    const { size, classes } = this.spec;
    return withLabels(latents, n, size, classes, labels);
  }

  /** Raw generator output for `n` input rows given row-major. */
  predict(inputs: Float32Array, n: number): Float32Array {
    return this.#loaded.predict(inputs, n);
  }

  /** The JSON body (UTF-8) for `n` samples; `fields` (seed, or from/to/steps) are echoed. */
  json(
    fields: Record<string, number>,
    values: Float32Array,
    n: number,
    labels: number[] = [],
  ): Uint8Array<ArrayBuffer> {
    const size = this.sampleSize;
    const flat = this.isImage ? toPixels(values, this.metadata.outputRange!) : values;
    const head: Omit<SampleBody, "samples"> = {
      model: this.id,
      ...fields,
      n,
      shape: this.#loaded.metadata.outputShape,
      encoding: this.isImage ? "uint8" : "float32",
      range: this.isImage ? [0, 255] : null,
      // A self-conditioned model's one-hot classes are clusters, not digits: named as such.
      ...(labels.length ? this.metadata.clusters ? { clusters: labels } : { labels } : {}),
    };
    const start = encoder.encode(`${JSON.stringify(head).slice(0, -1)},"samples":[`);
    if (!this.isImage) {
      // Typed-array join prints floats as JSON.stringify does, several times faster.
      const rows: string[] = [];
      for (let i = 0; i < n; i++) {
        rows.push(`[${flat.subarray(i * size, (i + 1) * size).join(",")}]`);
      }
      return concat(start, encoder.encode(`${rows.join(",")}]}`));
    }
    // Pixels are written as ASCII digits straight into the body: measured 2.6 against 14 µs per
    // 784-pixel sample for a join and a TextEncoder pass (this machine).
    const out = new Uint8Array(start.length + n * (4 * size + 2) + 2);
    out.set(start);
    let o = start.length;
    for (let i = 0; i < n; i++) {
      if (i) out[o++] = 44; // ,
      out[o++] = 91; // [
      for (let j = i * size; j < (i + 1) * size; j++) {
        const v = flat[j];
        if (j > i * size) out[o++] = 44;
        if (v >= 100) {
          out[o++] = 48 + ((v / 100) | 0);
          out[o++] = 48 + ((v / 10) | 0) % 10;
          out[o++] = 48 + v % 10;
        } else if (v >= 10) {
          out[o++] = 48 + ((v / 10) | 0);
          out[o++] = 48 + v % 10;
        } else {
          out[o++] = 48 + v;
        }
      }
      out[o++] = 93; // ]
    }
    out[o++] = 93;
    out[o++] = 125; // ]}
    return out.subarray(0, o);
  }

  /**
   * For an image model a grey PNG: n tiles of (height x width) * scale, row-major in a grid of
   * `cols` columns (default ceil(sqrt(n))), no gaps, empty cells black. For a 2-D model, the n
   * points over its mixture's modes (when its dataset is one), SCATTER_SIZE * scale square.
   */
  async png(values: Float32Array, n: number, scale: number, cols?: number): Promise<Uint8Array> {
    const { encodePng } = await loadPngEncoder();
    if (this.isPoints) {
      const modes = MIXTURES[this.metadata.dataset]?.modes ?? [];
      return encodePng(scatterRaster(values.subarray(0, 2 * n), modes, SCATTER_SIZE * scale));
    }
    const [height, width] = this.#loaded.metadata.outputShape;
    return encodePng(
      imageGrid(toPixels(values, this.metadata.outputRange!), { n, width, height, scale, cols }),
    );
  }
}
