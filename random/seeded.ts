/**
 * Seeded random numbers shared by training and serving.
 *
 * Everything random in edgegan is a pure function of integers (a seed, a step, a purpose), so a
 * run can be repeated bit for bit and resumed without saving generator state, and a served sample
 * depends only on (model, seed, n).
 *
 * ```ts
 * const z = latentBatch(42, 4, 100); // 4 x 100 standard normals, row-major
 * ```
 */

/** A seed for a request that gave none: from the platform's cryptographic generator. */
export function freshSeed(): number {
  return crypto.getRandomValues(new Uint32Array(1))[0];
}

/** Mixes any number of integers into one unsigned 32-bit hash (murmur3-style finaliser). */
export function mix32(...parts: number[]): number {
  let h = 0x9e3779b9;
  for (const part of parts) {
    // Split non-negative integers up to 2^53 into two 32-bit halves so large steps hash well.
    const lo = part >>> 0;
    const hi = Math.floor(part / 0x100000000) >>> 0;
    for (const word of [lo, hi]) {
      h = Math.imul(h ^ word, 0x85ebca6b);
      h = (h << 13) | (h >>> 19);
      h = Math.imul(h, 0xc2b2ae35) ^ 0x27d4eb2f;
    }
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  h = Math.imul(h, 0x846ca68b);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * A seed for tfjs random ops. tfjs treats seed 0 as "draw a random seed", so the result is kept
 * in 1..2^31-1.
 */
export function tfSeed(...parts: number[]): number {
  return (mix32(...parts) % 0x7ffffffe) + 1;
}

/** mulberry32: a small, fast 32-bit generator; plenty for batches, masks and latents. */
export class Rng {
  #state: number;
  #spare: number | undefined;

  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  /** A uniform unsigned 32-bit integer. */
  nextU32(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** A uniform float in [0, 1). */
  nextFloat(): number {
    return this.nextU32() / 0x100000000;
  }

  /** A uniform integer in [0, n). */
  nextInt(n: number): number {
    return Math.floor(this.nextFloat() * n);
  }

  /** A standard normal (Box-Muller, using both values of each pair). */
  nextNormal(): number {
    if (this.#spare !== undefined) {
      const spare = this.#spare;
      this.#spare = undefined;
      return spare;
    }
    // 1 - u keeps the logarithm's argument in (0, 1].
    const u = 1 - this.nextFloat();
    const v = this.nextFloat();
    const r = Math.sqrt(-2 * Math.log(u));
    this.#spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }
}

/** Name of the latent sampler, recorded in model metadata so other clients can reproduce it. */
export const LATENT_SAMPLER = "edgegan-v1: mulberry32(seed) + Box-Muller, row-major, N(0,1)";

/**
 * `n` latent vectors of size `dim` for `seed`, row-major. Values are drawn in order, so the
 * first k rows for a seed are the same whatever `n` is. Writes into `out` when given.
 */
export function latentBatch(
  seed: number,
  n: number,
  dim: number,
  out: Float32Array = new Float32Array(n * dim),
): Float32Array {
  const rng = new Rng(mix32(seed, 0x1a7e));
  for (let i = 0; i < n * dim; i++) out[i] = rng.nextNormal();
  return out;
}

/**
 * `steps` latent vectors on the great-circle path (slerp) from the latent of seed `from` to that
 * of seed `to`, ends included. Slerp keeps intermediate points at the norm typical of Gaussian
 * latents, where a straight line would pass through the unlikely region near the origin.
 */
export function interpolateLatents(
  from: number,
  to: number,
  steps: number,
  dim: number,
): Float32Array {
  const a = latentBatch(from, 1, dim), b = latentBatch(to, 1, dim);
  let dot = 0, na = 0, nb = 0;
  for (let i = 0; i < dim; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  const omega = Math.acos(Math.min(1, Math.max(-1, dot / Math.sqrt(na * nb))));
  const out = new Float32Array(steps * dim);
  for (let s = 0; s < steps; s++) {
    const t = s / (steps - 1);
    // Nearly parallel vectors: slerp's weights tend to the linear ones.
    const [wa, wb] = omega < 1e-6
      ? [1 - t, t]
      : [Math.sin((1 - t) * omega) / Math.sin(omega), Math.sin(t * omega) / Math.sin(omega)];
    for (let i = 0; i < dim; i++) out[s * dim + i] = wa * a[i] + wb * b[i];
  }
  return out;
}

/**
 * The labels of a conditional batch: `label` for every row when given, else drawn from
 * `classes` by the seed (row by row, so the first k are the same whatever n is): uniformly, or
 * in proportion to `weights` (a self-conditioned model's cluster sizes).
 */
export function labelsFor(
  seed: number,
  n: number,
  classes: number,
  label?: number,
  weights?: readonly number[],
): number[] {
  if (label !== undefined) return new Array(n).fill(label);
  const rng = new Rng(mix32(seed, 0x1abe1));
  if (!weights) return Array.from({ length: n }, () => rng.nextInt(classes));
  const total = weights.reduce((a, b) => a + b, 0);
  return Array.from({ length: n }, () => {
    let r = rng.nextFloat() * total;
    for (let c = 0; c < classes; c++) {
      r -= weights[c];
      if (r < 0) return c;
    }
    return classes - 1;
  });
}

/**
 * Generator input rows: each latent row followed, for a conditional model (`classes` > 0), by
 * the one-hot code of its label. With `classes` = 0 this is exactly `latents`.
 */
export function withLabels(
  latents: Float32Array,
  n: number,
  size: number,
  classes: number,
  labels: number[],
): Float32Array {
  if (classes === 0) return latents;
  const width = size + classes;
  const out = new Float32Array(n * width);
  for (let i = 0; i < n; i++) {
    out.set(latents.subarray(i * size, (i + 1) * size), i * width);
    out[i * width + size + labels[i]] = 1;
  }
  return out;
}
