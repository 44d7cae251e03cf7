import assert from "node:assert/strict";
import { initBackend } from "../models/backend.ts";
import { Rng } from "../models/random.ts";
import { GRID25, RING8, sampleMixture } from "../train/data.ts";
import {
  classifierScore,
  coverage,
  frechetDistance,
  kthNearestSquared,
  pacganMetrics,
  precisionRecall,
  symmetricEigen,
} from "../eval/metrics.ts";

await initBackend("wasm");

function gaussian(n: number, d: number, seed: number, shift = 0, scale = 1): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: n * d }, () => shift + scale * rng.nextNormal());
}

const close = (a: number, b: number, tol: number, what: string) =>
  assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs ${b}`);

Deno.test("classifier score: hand-computed cases", () => {
  // Confident and uniform over 10 classes: exp(KL(onehot || uniform)) = 10.
  const confident = new Float32Array(100 * 10);
  for (let i = 0; i < 100; i++) confident[i * 10 + (i % 10)] = 1;
  close(classifierScore(confident, 100), 10, 1e-9, "confident, balanced");
  // Every row the same distribution: KL is 0, score 1.
  close(classifierScore(new Float32Array(50 * 10).fill(0.1), 50), 1, 1e-9, "uniform rows");
  // Two classes, rows [1, 0] and [0.5, 0.5]: marginal [0.75, 0.25];
  // KL1 = log(1 / 0.75), KL2 = 0.5 log(0.5 / 0.75) + 0.5 log(0.5 / 0.25); score = exp((KL1 + KL2) / 2).
  const expected = Math.exp(
    (Math.log(1 / 0.75) + 0.5 * Math.log(0.5 / 0.75) + 0.5 * Math.log(2)) / 2,
  );
  close(
    classifierScore(Float32Array.of(1, 0, 0.5, 0.5), 2, 2),
    expected,
    1e-7,
    "two-class example",
  );
});

Deno.test("coverage: histogram, classes above 1%, KL from uniform", () => {
  const probs = new Float32Array(200 * 10);
  for (let i = 0; i < 200; i++) probs[i * 10 + (i < 100 ? 3 : 7)] = 1;
  const c = coverage(probs, 200);
  assert.equal(c.classesAbove1pct, 2);
  close(c.histogram[3], 0.5, 1e-12, "share of 3");
  close(c.klFromUniform, Math.log(5), 1e-12, "KL of two equal classes from uniform over 10");
});

Deno.test("symmetric eigen-decomposition reconstructs the matrix", () => {
  const d = 6;
  const x = gaussian(40, d, 3);
  const m = new Float64Array(d * d);
  for (let i = 0; i < 40; i++) {
    for (let a = 0; a < d; a++) {
      for (let b = 0; b < d; b++) m[a * d + b] += x[i * d + a] * x[i * d + b];
    }
  }
  const { values, vectors } = symmetricEigen(m, d);
  for (let a = 0; a < d; a++) {
    for (let b = 0; b < d; b++) {
      let s = 0;
      for (let k = 0; k < d; k++) s += vectors[a * d + k] * values[k] * vectors[b * d + k];
      close(s, m[a * d + b], 1e-9 * Math.abs(m[a * d + a]) + 1e-9, `entry ${a},${b}`);
    }
  }
});

Deno.test("Fréchet distance: 0 for identical sets, ||shift||^2 for shifted ones, closed form for scaled", () => {
  const d = 8, n = 2000;
  const x = gaussian(n, d, 1);
  close(frechetDistance(x, n, x, n, d), 0, 1e-6, "identical");
  const shifted = x.map((v) => v + 0.5);
  close(frechetDistance(x, n, shifted, n, d), d * 0.25, 1e-6, "shifted by 0.5 in every dimension");
  // Scaling by 2: covariance C -> 4C, Tr(C + 4C - 2 * 2C) = Tr(C), independent of the sample.
  const scaled = x.map((v) => 2 * v);
  const mean = new Float64Array(d);
  let trace = 0;
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j] += x[i * d + j] / n;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) trace += (x[i * d + j] - mean[j]) ** 2 / (n - 1);
  }
  let meanTerm = 0;
  for (const m of mean) meanTerm += m * m;
  close(frechetDistance(x, n, scaled, n, d), trace + meanTerm, 1e-6, "scaled by 2");
});

Deno.test("precision and recall: 1 and 1 for identical sets, 0 and 0 for far-apart sets", () => {
  const d = 5, n = 300;
  const x = gaussian(n, d, 2);
  const same = precisionRecall(x, n, x, n, d, 3);
  assert.deepEqual(same, { precision: 1, recall: 1 });
  const far = precisionRecall(x, n, gaussian(n, d, 3, 100), n, d, 3);
  assert.deepEqual(far, { precision: 0, recall: 0 });
  // A generator that covers half the real distribution: high precision, recall near one half.
  const half = x.filter((_, i) => x[Math.floor(i / d) * d] > 0);
  const pr = precisionRecall(x, n, half, half.length / d, d, 3);
  assert.ok(pr.precision > 0.95, `precision ${pr.precision}`);
  assert.ok(pr.recall > 0.3 && pr.recall < 0.75, `recall ${pr.recall}`);
});

Deno.test("k-th nearest neighbour distances match brute force", () => {
  const d = 3;
  const a = gaussian(20, d, 4), b = gaussian(30, d, 5);
  const got = kthNearestSquared(a, 20, b, 30, d, 2);
  for (let i = 0; i < 20; i++) {
    const all = Array.from({ length: 30 }, (_, j) => {
      let s = 0;
      for (let k = 0; k < d; k++) s += (a[i * d + k] - b[j * d + k]) ** 2;
      return s;
    }).sort((p, q) => p - q);
    close(got[i], all[1], 1e-4, `row ${i}`);
  }
});

Deno.test("PacGAN protocol: the true mixture covers every mode; a generator stuck on one mode covers 1", () => {
  const real = pacganMetrics(sampleMixture(GRID25, 2500, new Rng(1)), GRID25);
  assert.equal(real.modes, 25);
  assert.ok(real.highQuality > 0.98, `high quality ${real.highQuality}`);
  assert.ok(real.reverseKl < 0.02, `reverse KL ${real.reverseKl}`);

  const stuck = new Float32Array(2 * 2500);
  const rng = new Rng(2);
  for (let i = 0; i < 2500; i++) {
    stuck[2 * i] = 2 + 0.05 * rng.nextNormal();
    stuck[2 * i + 1] = -2 + 0.05 * rng.nextNormal();
  }
  const one = pacganMetrics(stuck, GRID25);
  assert.equal(one.modes, 1);
  close(one.reverseKl, Math.log(25), 1e-9, "all mass on one of 25 modes");
  const ring = pacganMetrics(sampleMixture(RING8, 2500, new Rng(3)), RING8);
  assert.equal(ring.modes, 8);
});
