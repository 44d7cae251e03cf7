/**
 * GAN quality metrics, as pure functions of arrays (tested on cases with known answers in
 * tests/metrics_test.ts).
 *
 * - classifier score: the Inception-Score formula, exp(E_x KL(p(y|x) || p(y))), on our MNIST
 *   classifier (Salimans et al., 2016);
 * - Fréchet distance between Gaussians fitted to two feature sets (Heusel et al., 2017);
 * - improved precision and recall with k-NN balls, k = 3 (Kynkäänniemi et al., 2019);
 * - density and coverage with k-NN balls around real samples only, k = 5 (Naeem et al., 2020):
 *   unlike precision, density is not fooled by a few real outliers with huge balls;
 * - digit coverage: predicted-class histogram, classes holding >= 1%, KL from uniform;
 * - nearest-neighbour distances (memorisation);
 * - the PacGAN 2-D protocol (Lin et al., 2018): high-quality samples, modes covered, reverse KL.
 */
import * as tf from "@tensorflow/tfjs-core";
import { tidyValues } from "../tfjs/backend.ts";
import type { Mixture } from "../datasets/mixtures.ts";

/** exp(mean_i KL(p_i || mean p)) for n rows of `classes` probabilities. */
export function classifierScore(probs: Float32Array, n: number, classes = 10): number {
  const marginal = new Float64Array(classes);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < classes; c++) marginal[c] += probs[i * classes + c] / n;
  }
  let kl = 0;
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < classes; c++) {
      const p = probs[i * classes + c];
      if (p > 0) kl += p * Math.log(p / marginal[c]);
    }
  }
  return Math.exp(kl / n);
}

/** Mean and covariance (float64, d x d row-major) of n rows of d features. */
export function meanCov(
  x: Float32Array,
  n: number,
  d: number,
): { mean: Float64Array; cov: Float64Array } {
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j] += x[i * d + j];
  for (let j = 0; j < d; j++) mean[j] /= n;
  const cov = new Float64Array(d * d);
  const row = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) row[j] = x[i * d + j] - mean[j];
    for (let a = 0; a < d; a++) {
      const ra = row[a];
      if (ra === 0) continue;
      for (let b = a; b < d; b++) cov[a * d + b] += ra * row[b];
    }
  }
  for (let a = 0; a < d; a++) {
    for (let b = a; b < d; b++) {
      const v = cov[a * d + b] / (n - 1);
      cov[a * d + b] = v;
      cov[b * d + a] = v;
    }
  }
  return { mean, cov };
}

/** Eigen-decomposition of a symmetric matrix by cyclic Jacobi rotations. */
export function symmetricEigen(
  matrix: Float64Array,
  d: number,
): { values: Float64Array; vectors: Float64Array } {
  const a = Float64Array.from(matrix);
  const v = new Float64Array(d * d);
  for (let i = 0; i < d; i++) v[i * d + i] = 1;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0, norm = 0;
    for (let p = 0; p < d; p++) {
      for (let q = 0; q < d; q++) {
        const x = a[p * d + q] * a[p * d + q];
        if (p !== q) off += x;
        norm += x;
      }
    }
    if (off <= 1e-22 * norm || off === 0) break;
    for (let p = 0; p < d - 1; p++) {
      for (let q = p + 1; q < d; q++) {
        const apq = a[p * d + q];
        if (Math.abs(apq) < 1e-300) continue;
        const theta = (a[q * d + q] - a[p * d + p]) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1), s = t * c;
        for (let k = 0; k < d; k++) {
          const akp = a[k * d + p], akq = a[k * d + q];
          a[k * d + p] = c * akp - s * akq;
          a[k * d + q] = s * akp + c * akq;
        }
        for (let k = 0; k < d; k++) {
          const apk = a[p * d + k], aqk = a[q * d + k];
          a[p * d + k] = c * apk - s * aqk;
          a[q * d + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < d; k++) {
          const vkp = v[k * d + p], vkq = v[k * d + q];
          v[k * d + p] = c * vkp - s * vkq;
          v[k * d + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const values = new Float64Array(d);
  for (let i = 0; i < d; i++) values[i] = a[i * d + i];
  return { values, vectors: v };
}

function matMul64(a: Float64Array, b: Float64Array, d: number): Float64Array {
  const out = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let k = 0; k < d; k++) {
      const aik = a[i * d + k];
      if (aik === 0) continue;
      for (let j = 0; j < d; j++) out[i * d + j] += aik * b[k * d + j];
    }
  }
  return out;
}

/** The Fréchet distance ||m1 - m2||^2 + Tr(S1 + S2 - 2 (S1 S2)^(1/2)) between feature sets. */
export function frechetDistance(
  a: Float32Array,
  na: number,
  b: Float32Array,
  nb: number,
  d: number,
): number {
  const x = meanCov(a, na, d), y = meanCov(b, nb, d);
  let meanTerm = 0, trace = 0;
  for (let j = 0; j < d; j++) {
    meanTerm += (x.mean[j] - y.mean[j]) ** 2;
    trace += x.cov[j * d + j] + y.cov[j * d + j];
  }
  // Tr (S1 S2)^(1/2) = Tr (R S2 R)^(1/2) with R = S1^(1/2): a symmetric PSD matrix.
  const e = symmetricEigen(x.cov, d);
  const root = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let j = 0; j < d; j++) {
      let s = 0;
      for (let k = 0; k < d; k++) {
        s += e.vectors[i * d + k] * Math.sqrt(Math.max(0, e.values[k])) * e.vectors[j * d + k];
      }
      root[i * d + j] = s;
    }
  }
  const m = matMul64(matMul64(root, y.cov, d), root, d);
  for (let i = 0; i < d; i++) {
    for (let j = i + 1; j < d; j++) m[i * d + j] = m[j * d + i] = (m[i * d + j] + m[j * d + i]) / 2;
  }
  const inner = symmetricEigen(m, d).values;
  let sqrtTrace = 0;
  for (const v of inner) sqrtTrace += Math.sqrt(Math.max(0, v));
  return Math.max(0, meanTerm + trace - 2 * sqrtTrace);
}

/**
 * Squared Euclidean distances between rows of `a` (n x d) and `b` (m x d), computed in chunks
 * of `a` on the tfjs backend; `visit(i, row)` sees each row of the distance matrix.
 */
export function forEachDistanceRow(
  a: Float32Array,
  n: number,
  b: Float32Array,
  m: number,
  d: number,
  visit: (i: number, squared: Float32Array) => void,
  chunk = 500,
): void {
  const bt = tf.tensor2d(b, [m, d]);
  const bNorms = tf.sum(tf.square(bt), 1);
  const bTransposed = tf.transpose(bt);
  try {
    for (let start = 0; start < n; start += chunk) {
      const rows = Math.min(chunk, n - start);
      const block = tidyValues(() => {
        const at = tf.tensor2d(a.subarray(start * d, (start + rows) * d), [rows, d]);
        const aNorms = tf.sum(tf.square(at), 1, true);
        return tf.relu(tf.add(tf.sub(aNorms, tf.mul(tf.matMul(at, bTransposed), 2)), bNorms));
      });
      for (let i = 0; i < rows; i++) visit(start + i, block.subarray(i * m, (i + 1) * m));
    }
  } finally {
    tf.dispose([bt, bNorms, bTransposed]);
  }
}

/** For each row of `a`, the squared distance to its k-th nearest row of `b`. */
export function kthNearestSquared(
  a: Float32Array,
  n: number,
  b: Float32Array,
  m: number,
  d: number,
  k: number,
): Float32Array {
  const out = new Float32Array(n);
  const best = new Float64Array(k);
  forEachDistanceRow(a, n, b, m, d, (i, row) => {
    best.fill(Infinity);
    for (let j = 0; j < m; j++) {
      const v = row[j];
      if (v >= best[k - 1]) continue;
      let p = k - 1;
      while (p > 0 && best[p - 1] > v) {
        best[p] = best[p - 1];
        p--;
      }
      best[p] = v;
    }
    out[i] = best[k - 1];
  });
  return out;
}

/**
 * Each point's k-NN ball: the squared distance to its k-th nearest other point (k + 1 counting
 * the point itself, at distance 0).
 */
function ballRadii(points: Float32Array, n: number, d: number, k: number): Float32Array {
  return kthNearestSquared(points, n, points, n, d, k + 1);
}

/** The rows of a row-major matrix of `d` columns. */
function rowsOf(values: Float32Array, d: number): number {
  if (values.length % d) throw new RangeError(`${values.length} values are not rows of ${d}`);
  return values.length / d;
}

/**
 * Improved precision and recall (k-NN balls): precision is the fraction of fake samples inside
 * some real sample's ball (radius: distance to its k-th nearest real neighbour), recall the
 * fraction of real samples inside some fake sample's ball. Both sets are row-major, `d` columns.
 */
export function precisionRecall(real: Float32Array, fake: Float32Array, d: number, k = 3) {
  const nr = rowsOf(real, d), nf = rowsOf(fake, d);
  const realRadii = ballRadii(real, nr, d, k), fakeRadii = ballRadii(fake, nf, d, k);
  const inside = (
    q: Float32Array,
    nq: number,
    ref: Float32Array,
    nref: number,
    radii: Float32Array,
  ) => {
    let count = 0;
    forEachDistanceRow(q, nq, ref, nref, d, (_, row) => {
      for (let j = 0; j < nref; j++) {
        if (row[j] <= radii[j]) {
          count++;
          return;
        }
      }
    });
    return count / nq;
  };
  return {
    precision: inside(fake, nf, real, nr, realRadii),
    recall: inside(real, nr, fake, nf, fakeRadii),
  };
}

/**
 * Density and coverage (Naeem et al., 2020), from k-NN balls around the real samples only
 * (radius: distance to the k-th nearest other real sample). Density is the mean number of real
 * balls holding a fake sample, divided by k (1 when fakes are distributed like reals; above 1
 * when they crowd dense regions); coverage is the fraction of real balls holding at least one
 * fake sample. Precision counts a fake inside any ball once, so a single real outlier with a
 * huge ball can make every fake "precise"; density weighs each ball equally, so it cannot.
 */
export function densityCoverage(real: Float32Array, fake: Float32Array, d: number, k = 5) {
  const nr = rowsOf(real, d), nf = rowsOf(fake, d);
  const radii = ballRadii(real, nr, d, k);
  let inBalls = 0;
  const covered = new Uint8Array(nr);
  forEachDistanceRow(fake, nf, real, nr, d, (_, row) => {
    for (let i = 0; i < nr; i++) {
      if (row[i] <= radii[i]) {
        inBalls++;
        covered[i] = 1;
      }
    }
  });
  return {
    density: inBalls / (k * nf),
    coverage: covered.reduce((s, c) => s + c, 0) / nr,
  };
}

/** Predicted-class histogram, how many classes hold >= 1% of samples, and KL(hist || uniform). */
export function coverage(
  probs: Float32Array,
  n: number,
  classes = 10,
): { histogram: number[]; classesAbove1pct: number; klFromUniform: number } {
  const counts = new Array(classes).fill(0);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let c = 1; c < classes; c++) {
      if (probs[i * classes + c] > probs[i * classes + best]) best = c;
    }
    counts[best]++;
  }
  const histogram = counts.map((c) => c / n);
  return {
    histogram,
    classesAbove1pct: histogram.filter((p) => p >= 0.01).length,
    klFromUniform: histogram.reduce((s, p) => s + (p > 0 ? p * Math.log(p * classes) : 0), 0),
  };
}

/** Quantiles (0..1) of an unsorted array. */
export function quantiles(values: Float32Array | number[], qs: number[]): number[] {
  const sorted = Float64Array.from(values).sort();
  return qs.map((q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]);
}

/**
 * The PacGAN 2-D protocol: a sample is high quality when within 3 standard deviations of its
 * nearest mode; a mode is covered when at least one high-quality sample is nearest to it; the
 * reverse KL compares the histogram of nearest modes over all samples with the uniform mixture
 * weights (empty modes add nothing: 0 log 0 = 0).
 *
 * Beyond the protocol, `spread`: the root-mean-square offset of the high-quality samples from
 * their mode, per axis, as a multiple of the mixture's std (the data: ~0.98, a little under 1
 * because points beyond 3 std are not counted). A generator that draws each mode as a point
 * passes the protocol with spread near 0; this number tells it from one that draws the blob.
 */
export function pacganMetrics(
  points: Float32Array,
  mixture: Mixture,
): { modes: number; highQuality: number; reverseKl: number; spread: number } {
  const n = points.length / 2;
  const k = mixture.modes.length;
  const nearest = new Array(k).fill(0);
  const covered = new Array(k).fill(false);
  let good = 0;
  let squares = 0;
  for (let i = 0; i < n; i++) {
    let best = 0, bestD = Infinity;
    mixture.modes.forEach(([mx, my], m) => {
      const dd = (points[2 * i] - mx) ** 2 + (points[2 * i + 1] - my) ** 2;
      if (dd < bestD) {
        bestD = dd;
        best = m;
      }
    });
    nearest[best]++;
    if (Math.sqrt(bestD) < 3 * mixture.std) {
      good++;
      squares += bestD;
      covered[best] = true;
    }
  }
  const reverseKl = nearest.reduce((s, c) => s + (c > 0 ? (c / n) * Math.log((c / n) * k) : 0), 0);
  const spread = good ? Math.sqrt(squares / good / 2) / mixture.std : 0;
  return { modes: covered.filter(Boolean).length, highQuality: good / n, reverseKl, spread };
}
