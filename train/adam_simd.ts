/**
 * The Adam update as a WASM SIMD loop that runs on the tfjs wasm backend's own memory.
 *
 * Why: the update touches every parameter once per step (558k for the default nets) and was the
 * largest single cost of a training step as a JavaScript loop (~9 ms of ~27 ms, measured with
 * bench/). tfjs has no fused Adam kernel, and a dozen element-wise kernels per variable are
 * slower still. So this file assembles, byte by byte, a 300-byte WebAssembly module with one
 * function that processes four floats per instruction, and instantiates it against the
 * backend's `WebAssembly.Memory`, so it reads gradients and moments where tfjs keeps them and
 * writes the new weights into a tensor tfjs allocated. No copies, no build step.
 *
 * Arithmetic is float32 throughout (as PyTorch's CPU Adam), in a fixed order:
 *   m = b1*m + c1*g;  v = b2*v + c2*(g*g);  w' = w - (step*m) / (sqrt(v)*inv + eps)
 * The last n % 4 elements run in JavaScript with every operation rounded to float32, which is
 * bit-identical to the SIMD lanes (tests/adam_test.ts).
 */

/** Unsigned LEB128, as WebAssembly encodes integers. */
function leb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

const str = (s: string) => [...leb(s.length), ...new TextEncoder().encode(s)];
const section = (id: number, body: number[]) => [id, ...leb(body.length), ...body];
const vec = (items: number[][]) => [...leb(items.length), ...items.flat()];

// Opcodes used below.
const I32 = 0x7f, F32 = 0x7d, V128 = 0x7b;
const LOCAL_GET = 0x20, LOCAL_SET = 0x21, I32_CONST = 0x41, I32_ADD = 0x6a, I32_SUB = 0x6b;
const I32_EQZ = 0x45, BLOCK = 0x02, LOOP = 0x03, BR = 0x0c, BR_IF = 0x0d, END = 0x0b;
const VOID = 0x40;
const simd = (op: number) => [0xfd, ...leb(op)];
const V128_LOAD = [...simd(0x00), 4, 0], V128_STORE = [...simd(0x0b), 4, 0]; // align 16, offset 0
const F32X4_SPLAT = simd(0x13), F32X4_SQRT = simd(0xe3), F32X4_ADD = simd(0xe4);
const F32X4_SUB = simd(0xe5), F32X4_MUL = simd(0xe6), F32X4_DIV = simd(0xe7);

/**
 * adam(w, g, m, v, out, quads, b1, c1, b2, c2, step, inv, eps): byte offsets of the weights,
 * gradient, moments and output, the number of 4-float groups, and the float32 coefficients.
 */
function adamModule(): Uint8Array<ArrayBuffer> {
  // Parameters 0-4: pointers, 5: groups left, 6-12: coefficients. Locals 13-19: the
  // coefficients splatted to four lanes; 20: new m; 21: new v.
  const [W, G, M, V, OUT, N] = [0, 1, 2, 3, 4, 5];
  const [B1, C1, B2, C2, STEP, INV, EPS] = [13, 14, 15, 16, 17, 18, 19];
  const MNEW = 20, VNEW = 21;
  const get = (i: number) => [LOCAL_GET, i], set = (i: number) => [LOCAL_SET, i];
  const body = [
    ...vec([[9, V128]]), // locals: 9 x v128
    ...[6, 7, 8, 9, 10, 11, 12].flatMap((p, i) => [...get(p), ...F32X4_SPLAT, ...set(B1 + i)]),
    BLOCK,
    VOID,
    LOOP,
    VOID,
    ...get(N),
    I32_EQZ,
    BR_IF,
    1,
    // m' = b1*m + c1*g
    ...get(B1),
    ...get(M),
    ...V128_LOAD,
    ...F32X4_MUL,
    ...get(C1),
    ...get(G),
    ...V128_LOAD,
    ...F32X4_MUL,
    ...F32X4_ADD,
    ...set(MNEW),
    ...get(M),
    ...get(MNEW),
    ...V128_STORE,
    // v' = b2*v + c2*(g*g)
    ...get(B2),
    ...get(V),
    ...V128_LOAD,
    ...F32X4_MUL,
    ...get(C2),
    ...get(G),
    ...V128_LOAD,
    ...get(G),
    ...V128_LOAD,
    ...F32X4_MUL,
    ...F32X4_MUL,
    ...F32X4_ADD,
    ...set(VNEW),
    ...get(V),
    ...get(VNEW),
    ...V128_STORE,
    // out = w - (step*m') / (sqrt(v')*inv + eps)
    ...get(OUT),
    ...get(W),
    ...V128_LOAD,
    ...get(STEP),
    ...get(MNEW),
    ...F32X4_MUL,
    ...get(VNEW),
    ...F32X4_SQRT,
    ...get(INV),
    ...F32X4_MUL,
    ...get(EPS),
    ...F32X4_ADD,
    ...F32X4_DIV,
    ...F32X4_SUB,
    ...V128_STORE,
    // advance the five pointers by 16 bytes and count down
    ...[W, G, M, V, OUT].flatMap((p) => [...get(p), I32_CONST, 16, I32_ADD, ...set(p)]),
    ...get(N),
    I32_CONST,
    1,
    I32_SUB,
    ...set(N),
    BR,
    0,
    END,
    END,
    END,
  ];
  const type = [
    0x60,
    ...vec([[I32], [I32], [I32], [I32], [I32], [I32], ...Array(7).fill([F32])]),
    0,
  ];
  const bytes = [
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, vec([type])),
    ...section(2, vec([[...str("env"), ...str("memory"), 0x02, 0x00, 0x00]])), // memory, min 0
    ...section(3, vec([[0]])),
    ...section(7, vec([[...str("adam"), 0x00, 0]])),
    ...section(10, vec([[...leb(body.length), ...body]])),
  ];
  return new Uint8Array(bytes);
}

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
  let adam: (...args: number[]) => void;
  try {
    const module = new WebAssembly.Module(adamModule());
    const instance = new WebAssembly.Instance(module, { env: { memory } });
    adam = instance.exports.adam as (...args: number[]) => void;
  } catch {
    return undefined;
  }
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
