/**
 * The WASM GEMM roofline probe: plain matMul throughput on the shapes of one default training
 * step (operands reused, so this is the kernel's best case), and the same with transposeB on
 * the stock kernel for reference. Prints one JSON line.
 */
import * as tf from "@tensorflow/tfjs-core";
import { initBackend, setFastTransposedMatMul } from "../tfjs/backend.ts";

await initBackend("wasm");

// [rows, inner, cols] of the step's matMuls (batch 64; D sees 128 rows for real + fake).
const SHAPES: [number, number, number][] = [
  [64, 100, 256],
  [64, 256, 256],
  [64, 256, 784],
  [128, 784, 256],
  [128, 256, 256],
  [64, 784, 256],
];

function measure(transposeB: boolean): number {
  const pairs = SHAPES.map(([m, k, n]) => [
    tf.randomNormal([m, k], 0, 1, "float32", 1),
    tf.randomNormal(transposeB ? [n, k] : [k, n], 0, 1, "float32", 2),
  ]);
  const flops = SHAPES.reduce((s, [m, k, n]) => s + 2 * m * k * n, 0);
  const run = () => pairs.forEach(([a, b]) => tf.matMul(a, b, false, transposeB).dispose());
  for (let i = 0; i < 5; i++) run();
  const reps = transposeB ? 5 : 100;
  const start = performance.now();
  for (let i = 0; i < reps; i++) run();
  const seconds = (performance.now() - start) / 1000;
  tf.dispose(pairs.flat());
  return (flops * reps) / seconds / 1e9;
}

const plain = measure(false);
setFastTransposedMatMul(false);
const stockTransposed = measure(true);
console.log(JSON.stringify({ plainGflops: plain, stockTransposedGflops: stockTransposed }));
