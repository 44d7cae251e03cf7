/**
 * Self-conditioning (Liu et al. 2020, "Diverse Image Generation via Self-Conditioned GANs"): an
 * unconditional GAN trained as a conditional one on k-means clusters of its own training images,
 * no labels used. G and D both see the cluster's one-hot code; at sampling time the cluster is
 * drawn from the seed with the clusters' frequencies, so the generator still needs only a seed.
 *
 * ```ts
 * const { assignment, weights } = kMeans(images, count, 784, 20, 1); // images in [-1, 1]
 * ```
 */
import { mix32, Rng } from "../random/seeded.ts";

/** How many images fit the centroids (the rest are only assigned): ~0.2 s per iteration. */
const FIT_SAMPLE = 10_000;
const ITERATIONS = 25;

export interface Clusters {
  /** The cluster of every image. */
  assignment: Uint8Array;
  /** Each cluster's share of the images, summing to 1. */
  weights: number[];
  centroids: Float32Array;
}

/** The centroid nearest to row `row` of `x`, and its squared distance. */
export function nearest(
  x: Float32Array,
  row: number,
  centroids: Float32Array,
  k: number,
  dim: number,
): { cluster: number; dist: number } {
  let best = 0, bestDist = Infinity;
  for (let c = 0; c < k; c++) {
    let d = 0;
    for (let j = 0; j < dim; j++) {
      const diff = x[row * dim + j] - centroids[c * dim + j];
      d += diff * diff;
    }
    if (d < bestDist) [best, bestDist] = [c, d];
  }
  return { cluster: best, dist: bestDist };
}

/**
 * k-means (k-means++ seeding, Lloyd iterations) of `n` rows of `dim` values, fitted on a seeded
 * sample of `FIT_SAMPLE` rows and then applied to all; deterministic for a seed.
 */
export function kMeans(x: Float32Array, n: number, dim: number, k: number, seed: number): Clusters {
  const rng = new Rng(mix32(seed, 0xc1057e));
  const fitN = Math.min(n, FIT_SAMPLE);
  const order = Uint32Array.from({ length: n }, (_, i) => i);
  for (let i = 0; i < fitN; i++) {
    const j = i + rng.nextInt(n - i);
    [order[i], order[j]] = [order[j], order[i]];
  }
  const fit = new Float32Array(fitN * dim);
  for (let i = 0; i < fitN; i++) fit.set(x.subarray(order[i] * dim, (order[i] + 1) * dim), i * dim);

  // k-means++: each next centroid is a row drawn with probability proportional to its squared
  // distance from the nearest centroid so far.
  const centroids = new Float32Array(k * dim);
  centroids.set(fit.subarray(0, dim));
  const dist = new Float64Array(fitN).fill(Infinity);
  for (let c = 1; c < k; c++) {
    let total = 0;
    for (let i = 0; i < fitN; i++) {
      let d = 0;
      for (let j = 0; j < dim; j++) {
        const diff = fit[i * dim + j] - centroids[(c - 1) * dim + j];
        d += diff * diff;
      }
      dist[i] = Math.min(dist[i], d);
      total += dist[i];
    }
    let r = rng.nextFloat() * total, pick = fitN - 1;
    for (let i = 0; i < fitN; i++) {
      r -= dist[i];
      if (r < 0) {
        pick = i;
        break;
      }
    }
    centroids.set(fit.subarray(pick * dim, (pick + 1) * dim), c * dim);
  }

  const fitAssign = new Int32Array(fitN).fill(-1);
  for (let iter = 0; iter < ITERATIONS; iter++) {
    let changed = 0;
    for (let i = 0; i < fitN; i++) {
      const { cluster } = nearest(fit, i, centroids, k, dim);
      if (cluster !== fitAssign[i]) [fitAssign[i], changed] = [cluster, changed + 1];
    }
    if (changed === 0) break;
    const sums = new Float64Array(k * dim);
    const counts = new Float64Array(k);
    for (let i = 0; i < fitN; i++) {
      const c = fitAssign[i];
      counts[c]++;
      for (let j = 0; j < dim; j++) sums[c * dim + j] += fit[i * dim + j];
    }
    // An emptied cluster keeps its old centroid.
    for (let c = 0; c < k; c++) {
      if (counts[c] === 0) continue;
      for (let j = 0; j < dim; j++) centroids[c * dim + j] = sums[c * dim + j] / counts[c];
    }
  }

  const assignment = new Uint8Array(n);
  const counts = new Array(k).fill(0);
  for (let i = 0; i < n; i++) {
    assignment[i] = nearest(x, i, centroids, k, dim).cluster;
    counts[assignment[i]]++;
  }
  return { assignment, weights: counts.map((c) => c / n), centroids };
}
