import assert from "node:assert/strict";
import { initBackend } from "../tfjs/backend.ts";
import { Rng } from "../random/seeded.ts";
import { GRID25, RING8, sampleMixture } from "../datasets/mixtures.ts";
import {
  classifierScore,
  coverage,
  densityCoverage,
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
  const same = precisionRecall(x, x, d, 3);
  assert.deepEqual(same, { precision: 1, recall: 1 });
  const far = precisionRecall(x, gaussian(n, d, 3, 100), d, 3);
  assert.deepEqual(far, { precision: 0, recall: 0 });
  // A generator that covers half the real distribution: high precision, recall near one half.
  const half = x.filter((_, i) => x[Math.floor(i / d) * d] > 0);
  const pr = precisionRecall(x, half, d, 3);
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

Deno.test("PacGAN spread: the data's blobs measure ~0.98 std; modes drawn as points measure 0", () => {
  const real = pacganMetrics(sampleMixture(GRID25, 2500, new Rng(1)), GRID25);
  assert.ok(Math.abs(real.spread - 0.98) < 0.04, `spread ${real.spread}`);
  // Every mode hit exactly: 25 points, no offset.
  const points = Float32Array.from(GRID25.modes.flat());
  const exact = pacganMetrics(points, GRID25);
  assert.equal(exact.modes, 25);
  assert.equal(exact.spread, 0);
  // Offsets of exactly 1 std on one axis: rms per axis sqrt((1 + 0) / 2).
  const shifted = Float32Array.from(GRID25.modes.flatMap(([x, y]) => [x + GRID25.std, y]));
  close(pacganMetrics(shifted, GRID25).spread, Math.SQRT1_2, 1e-5, "one std on one axis");
});

Deno.test("density and coverage on a lattice: hand-counted balls", () => {
  // Reals at 0..9 on a line, k = 1: every ball has radius 1. Fakes equal to the reals fall in
  // their own ball and their neighbours': 2 balls at the ends, 3 inside, 28 in all.
  const reals = Float32Array.from({ length: 10 }, (_, i) => i);
  const { density, coverage } = densityCoverage(reals, reals, 1, 1);
  assert.ok(Math.abs(density - 28 / 10) < 1e-12, `density ${density}`);
  assert.equal(coverage, 1);
  // Fakes only near 0 cover the balls of 0 and 1: 2 of 10.
  const near0 = new Float32Array([0.1, 0.2, 0.3]);
  const c = densityCoverage(reals, near0, 1, 1);
  assert.equal(c.coverage, 0.2);
  assert.ok(Math.abs(c.density - 6 / 3) < 1e-12, `density ${c.density}`);
});

Deno.test("a real outlier's huge ball makes identical blobs 'precise' but not dense or covering", () => {
  // Reals at 0..8 and one outlier at 100; ten identical fakes at 50 fall only in the outlier's
  // ball (its 5th-nearest neighbour is 96 away), so precision is 1 while density is 1/5.
  const reals = Float32Array.from([0, 1, 2, 3, 4, 5, 6, 7, 8, 100]);
  const fakes = new Float32Array(10).fill(50);
  const { precision } = precisionRecall(reals, fakes, 1, 5);
  assert.equal(precision, 1);
  const { density, coverage } = densityCoverage(reals, fakes, 1, 5);
  assert.ok(Math.abs(density - 0.2) < 1e-12, `density ${density}`);
  assert.equal(coverage, 0.1);
});

Deno.test("Fréchet distance with covariances that do not commute: the 2-D closed form", () => {
  // For 2 x 2 PSD matrices, Tr (S1 S2)^(1/2) = sqrt(Tr(S1 S2) + 2 sqrt(det S1 det S2)).
  const n = 3000;
  const mixed = (seed: number, m: number[], shift: number[]) => {
    const z = gaussian(n, 2, seed);
    return Float32Array.from({ length: 2 * n }, (_, i) => {
      const row = Math.floor(i / 2), c = i % 2;
      return m[2 * c] * z[2 * row] + m[2 * c + 1] * z[2 * row + 1] + shift[c];
    });
  };
  const x = mixed(11, [2, 0, 1, 1], [0, 0]); // correlated, axis-tilted
  const y = mixed(12, [1, -0.5, 0, 3], [1, -2]); // tilted the other way
  const stats = (a: Float32Array) => {
    const mean = [0, 1].map((c) => a.filter((_, i) => i % 2 === c).reduce((s, v) => s + v, 0) / n);
    const cov = [0, 0, 0, 0];
    for (let i = 0; i < n; i++) {
      for (let r = 0; r < 2; r++) {
        for (let c = 0; c < 2; c++) {
          cov[2 * r + c] += (a[2 * i + r] - mean[r]) * (a[2 * i + c] - mean[c]) / (n - 1);
        }
      }
    }
    return { mean, cov };
  };
  const sx = stats(x), sy = stats(y);
  const [a, b, , d] = sx.cov, [e, f, , h] = sy.cov;
  // S1 S2 for symmetric S1 = [[a, b], [b, d]], S2 = [[e, f], [f, h]]: its trace.
  const trProduct = a * e + 2 * b * f + d * h;
  const det = (a * d - b * b) * (e * h - f * f);
  const expected = (sx.mean[0] - sy.mean[0]) ** 2 + (sx.mean[1] - sy.mean[1]) ** 2 + a + d + e +
    h - 2 * Math.sqrt(trProduct + 2 * Math.sqrt(det));
  assert.ok(Math.abs(a * f + b * h - (e * b + f * d)) > 0.5, "the covariances do not commute");
  close(frechetDistance(x, n, y, n, 2), expected, 1e-6 * expected, "closed form");
});

Deno.test("precision and recall by hand: k-NN radii exclude the point itself", () => {
  // Real 0, 1, 3, 7 with k = 1: radii (to the nearest other real) 1, 1, 2, 4.
  // Fakes -2, 4.5, 5.5, 12: 4.5 is in 3's ball, 5.5 in 7's; -2 and 12 in none: precision 1/2.
  // Fake radii (k = 1): 6.5, 1, 1, 6.5; every real is in some fake's ball: recall 1.
  // With the radius to the k-th neighbour counting the point itself (0), both would be 0.
  const real = Float32Array.from([0, 1, 3, 7]), fake = Float32Array.from([-2, 4.5, 5.5, 12]);
  assert.deepEqual(precisionRecall(real, fake, 1, 1), { precision: 0.5, recall: 1 });
  // k = 2: real radii 3, 2, 3, 6: -2 is within 3 of 0 and 12 within 6 of 7: precision 1.
  assert.deepEqual(precisionRecall(real, fake, 1, 2), { precision: 1, recall: 1 });
});
