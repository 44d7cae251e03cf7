/**
 * The Adam update as a WASM SIMD loop that runs on the tfjs wasm backend's own memory.
 *
 * Why: the update touches every parameter once per step (558k for the default nets) and was the
 * largest single cost of a training step as a JavaScript loop (~9 ms of ~27 ms, measured with
 * bench/). tfjs has no fused Adam kernel, and a dozen element-wise kernels per variable are
 * slower still. So a 277-byte WebAssembly module (engine/kernels/adam.wat, compiled by wabt)
 * processes four floats per instruction, and is instantiated against the
 * backend's `WebAssembly.Memory`, so it reads gradients and moments where tfjs keeps them and
 * writes the new weights into a tensor tfjs allocated. No copies; the bytes are committed
 * (engine/kernels/kernels.ts), so nothing is built at run time.
 *
 * Arithmetic is float32 throughout (as PyTorch's CPU Adam), in a fixed order:
 *   m = b1*m + c1*g;  v = b2*v + c2*(g*g);  w' = w - (step*m) / (sqrt(v)*inv + eps)
 * The last n % 4 elements run in JavaScript with every operation rounded to float32, which is
 * bit-identical to the SIMD lanes (tests/adam_test.ts).
 */
import { instantiateKernel } from "../engine/kernels/base64.ts";
import { ADAM_WASM } from "../engine/kernels/kernels.ts";

/**
 * adam(w, g, m, v, out, quads, b1, c1, b2, c2, step, inv, eps) from engine/kernels/adam.wat:
 * byte offsets of the weights, gradient, moments and output, the number of 4-float groups, and
 * the float32 coefficients.
 */
type AdamWasm = (...args: number[]) => void;

export type AdamKernel = (
  offsets: { w: number; g: number; m: number; v: number; out: number },
  n: number,
  coefficients: AdamCoefficients,
) => void;

export interface AdamCoefficients {
  b1: number;
  b2: number;
  step: number;
  /** 1 / sqrt(1 - b2^t), the second moment's bias correction. */
  inv: number;
  eps: number;
}

const instances = new WeakMap<WebAssembly.Memory, AdamKernel>();

/**
 * The kernel bound to `memory` (the wasm backend's), or undefined when this runtime cannot
 * compile WASM SIMD. Offsets are in bytes and must be multiples of 4.
 */
export function adamKernel(memory: WebAssembly.Memory): AdamKernel | undefined {
  const cached = instances.get(memory);
  if (cached) return cached;
  const adam = instantiateKernel(ADAM_WASM, memory)?.adam as AdamWasm | undefined;
  if (!adam) return undefined;
  const f = Math.fround;
  const kernel: AdamKernel = (p, n, c) => {
    const b1 = f(c.b1), c1 = f(1 - c.b1), b2 = f(c.b2), c2 = f(1 - c.b2);
    const step = f(c.step), inv = f(c.inv), eps = f(c.eps);
    const quads = n >>> 2;
    adam(p.w, p.g, p.m, p.v, p.out, quads, b1, c1, b2, c2, step, inv, eps);
    // The tail, with each operation rounded to float32 like a SIMD lane.
    const heap = new Float32Array(memory.buffer);
    for (let i = quads * 4; i < n; i++) {
      const g = heap[p.g / 4 + i];
      const m = heap[p.m / 4 + i] = f(f(b1 * heap[p.m / 4 + i]) + f(c1 * g));
      const v = heap[p.v / 4 + i] = f(f(b2 * heap[p.v / 4 + i]) + f(c2 * f(g * g)));
      heap[p.out / 4 + i] = f(
        heap[p.w / 4 + i] - f(f(step * m) / f(f(f(Math.sqrt(v)) * inv) + eps)),
      );
    }
  };
  instances.set(memory, kernel);
  return kernel;
}
