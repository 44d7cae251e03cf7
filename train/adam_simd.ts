/**
 * The Adam update as a WASM SIMD loop that runs on the tfjs wasm backend's own memory.
 *
 * Why: the update touches every parameter once per step (558k for the default nets) and was the
 * largest single cost of a training step as a JavaScript loop (~9 ms of ~27 ms, measured with
 * bench/). tfjs has no fused Adam kernel, and a dozen element-wise kernels per variable are
 * slower still. So this file assembles (engine/wasm_asm.ts) a 300-byte WebAssembly module with
 * one function that processes four floats per instruction, and instantiates it against the
 * backend's `WebAssembly.Memory`, so it reads gradients and moments where tfjs keeps them and
 * writes the new weights into a tensor tfjs allocated. No copies, no build step.
 *
 * Arithmetic is float32 throughout (as PyTorch's CPU Adam), in a fixed order:
 *   m = b1*m + c1*g;  v = b2*v + c2*(g*g);  w' = w - (step*m) / (sqrt(v)*inv + eps)
 * The last n % 4 elements run in JavaScript with every operation rounded to float32, which is
 * bit-identical to the SIMD lanes (tests/adam_test.ts).
 */
import { F32, I32, instantiate, type KernelSpec, op, V128 } from "../engine/wasm_asm.ts";

const { get, set, i32 } = op;

/**
 * adam(w, g, m, v, out, quads, b1, c1, b2, c2, step, inv, eps): byte offsets of the weights,
 * gradient, moments and output, the number of 4-float groups, and the float32 coefficients.
 */
const ADAM: KernelSpec = (() => {
  // Parameters 0-4: pointers, 5: groups left, 6-12: coefficients. Locals 13-19: the
  // coefficients splatted to four lanes; 20: new m; 21: new v.
  const [W, G, M, V, OUT, N] = [0, 1, 2, 3, 4, 5];
  const [B1, C1, B2, C2, STEP, INV, EPS] = [13, 14, 15, 16, 17, 18, 19];
  const MNEW = 20, VNEW = 21;
  const load = (p: number) => [...get(p), ...op.v128Load()];
  const body = [
    ...[6, 7, 8, 9, 10, 11, 12].flatMap((p, i) => [...get(p), ...op.f32x4Splat, ...set(B1 + i)]),
    ...op.block,
    ...op.loop,
    ...get(N),
    ...op.i32Eqz,
    ...op.brIf(1),
    // m' = b1*m + c1*g
    ...get(B1),
    ...load(M),
    ...op.f32x4Mul,
    ...get(C1),
    ...load(G),
    ...op.f32x4Mul,
    ...op.f32x4Add,
    ...set(MNEW),
    ...get(M),
    ...get(MNEW),
    ...op.v128Store(),
    // v' = b2*v + c2*(g*g)
    ...get(B2),
    ...load(V),
    ...op.f32x4Mul,
    ...get(C2),
    ...load(G),
    ...load(G),
    ...op.f32x4Mul,
    ...op.f32x4Mul,
    ...op.f32x4Add,
    ...set(VNEW),
    ...get(V),
    ...get(VNEW),
    ...op.v128Store(),
    // out = w - (step*m') / (sqrt(v')*inv + eps)
    ...get(OUT),
    ...load(W),
    ...get(STEP),
    ...get(MNEW),
    ...op.f32x4Mul,
    ...get(VNEW),
    ...op.f32x4Sqrt,
    ...get(INV),
    ...op.f32x4Mul,
    ...get(EPS),
    ...op.f32x4Add,
    ...op.f32x4Div,
    ...op.f32x4Sub,
    ...op.v128Store(),
    // advance the five pointers by 16 bytes and count down
    ...[W, G, M, V, OUT].flatMap((p) => [...get(p), ...i32(16), ...op.i32Add, ...set(p)]),
    ...get(N),
    ...i32(1),
    ...op.i32Sub,
    ...set(N),
    ...op.br(0),
    ...op.end,
    ...op.end,
  ];
  return {
    params: [I32, I32, I32, I32, I32, I32, F32, F32, F32, F32, F32, F32, F32],
    locals: Array(9).fill(V128),
    body,
    exportName: "adam",
  };
})();

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
  const adam = instantiate(ADAM, memory);
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
