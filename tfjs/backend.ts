/**
 * TensorFlow.js backend set-up for the trainer, evaluation, the benchmarks and the server's tfjs
 * fallback engine. This is the one file that reaches into tfjs internals (the wasm backend's
 * kernels and memory), so it checks the tfjs version it was written for.
 *
 * ```ts
 * const info = await initBackend("wasm"); // { name: "wasm", simd: true, threads: false, ... }
 * ```
 */
import * as tf from "@tensorflow/tfjs-core";

export type BackendName = "wasm" | "cpu";
export const BACKENDS: readonly BackendName[] = ["wasm", "cpu"];

export interface BackendInfo {
  name: BackendName;
  simd: boolean;
  threads: boolean;
  tfjsVersion: string;
  /** Whether the transposed-matMul kernel fix is active (see `registerFastTransposedMatMul`). */
  fastTransposedMatMul: boolean;
}

/** Raised when the requested backend cannot run here; the message is meant for a user. */
export class BackendError extends Error {
  override name = "BackendError";
}

let active: BackendInfo | undefined;

/** The tfjs release the internals used here were read from (deno.json pins it). */
export const TFJS_WRITTEN_FOR = "4.22.0";

/**
 * Selects and initialises a backend once per process. `wasm` requires WASM SIMD: without it the
 * trainer would be several times slower, so it is an error rather than a silent fallback.
 */
export async function initBackend(name: BackendName): Promise<BackendInfo> {
  if (active) {
    if (active.name !== name) {
      throw new BackendError(`backend ${active.name} is already active; cannot switch to ${name}`);
    }
    return active;
  }
  if (tf.version_core !== TFJS_WRITTEN_FOR) {
    throw new BackendError(
      `tfjs/backend.ts uses tfjs-wasm internals read from tfjs ${TFJS_WRITTEN_FOR}, but this is tfjs ${tf.version_core}; pin ${TFJS_WRITTEN_FOR} in deno.json or re-check the overrides and their tests`,
    );
  }
  if (name === "wasm") {
    await import("@tensorflow/tfjs-backend-wasm");
  } else {
    await import("@tensorflow/tfjs-backend-cpu");
  }
  // Production mode silences tfjs's console warnings (kernel re-registration, backend
  // selection); the trainer and server print their own status lines.
  tf.enableProdMode();
  let ok = false;
  try {
    ok = await tf.setBackend(name);
  } catch (err) {
    throw new BackendError(`could not start the ${name} backend: ${(err as Error).message}`);
  }
  if (!ok) throw new BackendError(`could not start the ${name} backend`);
  const simd = name === "wasm" && (await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT")) === true;
  const threads = name === "wasm" &&
    (await tf.env().getAsync("WASM_HAS_MULTITHREAD_SUPPORT")) === true;
  if (name === "wasm" && !simd) {
    throw new BackendError(
      "WASM SIMD is not available in this runtime; use Deno 2 (V8 with SIMD) or pass --backend cpu",
    );
  }
  const fast = name === "wasm" ? registerFastTransposedMatMul() : false;
  active = { name, simd, threads, tfjsVersion: tf.version_core, fastTransposedMatMul: fast };
  return active;
}

let fastTransposedMatMul = true;

/**
 * Turns the transposed-matMul fix on or off (it is on after `initBackend("wasm")`); tests and
 * benchmarks compare both paths.
 */
export function setFastTransposedMatMul(enabled: boolean): void {
  fastTransposedMatMul = enabled;
}

type KernelArgs = {
  inputs: Record<string, tf.TensorInfo>;
  backend: { disposeData(dataId: object): void };
  attrs: Record<string, unknown>;
};

/**
 * The wasm BatchMatMul kernel is ~15x slower with `transposeA`/`transposeB` set than an
 * explicit Transpose followed by a plain matMul (measured on this project's machine: 10.6 ms vs
 * 2.1 ms for 64x784 by 784x256 with transposeB). Dense backprop always asks for a transposed
 * operand, so this override transposes explicitly and calls the stock kernel.
 *
 * The stock kernel (XNNPACK) packs its right operand into a private layout on first use and
 * caches that per tensor; a weight that changes every step is packed again on every use, which
 * costs about as much as the product itself for a 64-row batch. So for A x B^T with A the
 * smaller operand (the backprop product dY x W^T, W a fresh weight each step) the override
 * computes (B x A^T)^T instead: the big operand goes on the left, where it is read as is, and
 * only the small one is transposed and packed. Results equal the stock path up to float
 * rounding (tests/backend_test.ts).
 */
function registerFastTransposedMatMul(): boolean {
  const stock = tf.getKernel(tf.BatchMatMul, "wasm");
  const transpose = tf.getKernel(tf.Transpose, "wasm");
  if (!stock || !transpose) return false;
  const stockFunc = stock.kernelFunc as unknown as (args: KernelArgs) => tf.TensorInfo;
  const transposeFunc = transpose.kernelFunc as unknown as (args: KernelArgs) => tf.TensorInfo;

  const kernelFunc = (args: KernelArgs): tf.TensorInfo => {
    const { inputs, backend, attrs } = args;
    if (!fastTransposedMatMul || (!attrs.transposeA && !attrs.transposeB)) return stockFunc(args);
    const temps: tf.TensorInfo[] = [];
    const swapLastTwo = (x: tf.TensorInfo, keep = false): tf.TensorInfo => {
      const perm = x.shape.map((_, i) => i);
      const r = perm.length;
      [perm[r - 2], perm[r - 1]] = [perm[r - 1], perm[r - 2]];
      const t = transposeFunc({ inputs: { x }, backend, attrs: { perm } });
      if (!keep) temps.push(t);
      return t;
    };
    const plain = (a: tf.TensorInfo, b: tf.TensorInfo) =>
      stockFunc({
        inputs: { a, b },
        backend,
        attrs: { ...attrs, transposeA: false, transposeB: false },
      });
    try {
      const { a, b } = inputs;
      const rowsA = a.shape[a.shape.length - 2], rowsB = b.shape[b.shape.length - 2];
      if (!attrs.transposeA && attrs.transposeB && a.shape.length === 2 && rowsA < rowsB) {
        // A x B^T = (B x A^T)^T with B read in place and only A transposed and packed.
        const productT = plain(b, swapLastTwo(a));
        temps.push(productT);
        return swapLastTwo(productT, true);
      }
      return plain(
        attrs.transposeA ? swapLastTwo(a) : a,
        attrs.transposeB ? swapLastTwo(b) : b,
      );
    } finally {
      for (const t of temps) backend.disposeData(t.dataId);
    }
  };
  tf.unregisterKernel(tf.BatchMatMul, "wasm");
  tf.registerKernel({ ...stock, kernelFunc: kernelFunc as unknown as tf.KernelFunc });
  return true;
}

/**
 * A live Float32Array view of a float32 tensor's storage on the wasm or cpu backend, or
 * undefined elsewhere. The view is valid until the next tfjs allocation (the wasm heap may grow
 * and move). Writing through it bypasses tfjs: only do so for tensors that no kernel caches by
 * id (the wasm matMul caches packed weights per tensor id, so never write into a weight).
 */
export function float32View(t: tf.Tensor): Float32Array | undefined {
  if (t.dtype !== "float32" || t.isDisposed) return undefined;
  const backend = tf.backend() as unknown as {
    typedArrayFromHeap?: (info: tf.TensorInfo) => Float32Array;
    data?: { get(dataId: object): { values?: unknown } | undefined };
  };
  const name = tf.getBackend();
  if (name === "wasm" && backend.typedArrayFromHeap) {
    return backend.typedArrayFromHeap({ dataId: t.dataId, shape: t.shape, dtype: "float32" });
  }
  if (name === "cpu") {
    const values = backend.data?.get(t.dataId)?.values;
    if (values instanceof Float32Array && values.length === t.size) return values;
  }
  return undefined;
}

/** The wasm backend's linear memory, when the wasm backend is active. */
export function wasmMemory(): WebAssembly.Memory | undefined {
  if (tf.getBackend() !== "wasm") return undefined;
  const memory = (tf.backend() as unknown as { wasm?: { asm?: { memory?: unknown } } }).wasm?.asm
    ?.memory;
  return memory instanceof WebAssembly.Memory ? memory : undefined;
}

/**
 * A float32 tensor shaped like `like` whose storage is allocated but not initialised (for
 * kernels that write every element). On backends other than wasm it is zero-filled.
 */
export function newTensorLike(like: { shape: number[] }): tf.Tensor {
  const backend = tf.backend() as unknown as {
    makeOutput?: (shape: number[], dtype: "float32") => tf.TensorInfo;
  };
  if (tf.getBackend() === "wasm" && backend.makeOutput) {
    return tf.engine().makeTensorFromTensorInfo(backend.makeOutput(like.shape, "float32"));
  }
  return tf.zeros(like.shape, "float32");
}

/**
 * A float32 tensor whose values `fill` writes into a Float32Array view. On the wasm backend the
 * view is the tensor's own storage, which skips allocating a JavaScript array and copying it
 * (measured: a fresh 64 KB Float32Array costs ~0.15 ms, more than filling it).
 */
export function tensorFrom(shape: number[], fill: (values: Float32Array) => void): tf.Tensor {
  if (tf.getBackend() === "wasm") {
    const t = newTensorLike({ shape });
    const view = float32View(t);
    if (view) {
      fill(view);
      return t;
    }
    t.dispose();
  }
  const values = new Float32Array(shape.reduce((a, b) => a * b, 1));
  fill(values);
  return tf.tensor(values, shape);
}

/**
 * Runs `compute` inside tf.tidy and returns the result's values, disposing it. Never return a
 * typed array from tf.tidy itself: tidy walks every element of its result looking for tensors
 * (measured: 5 s for a 500 x 10,000 block).
 */
export function tidyValues(compute: () => tf.Tensor): Float32Array {
  const result = tf.tidy(compute);
  try {
    return result.dataSync() as Float32Array;
  } finally {
    result.dispose();
  }
}
