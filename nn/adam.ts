/**
 * Adam (Kingma & Ba, 2015) in PyTorch's formulation, with its whole state exposed as tensors
 * plus a step count, so a checkpoint can restore it exactly. (tfjs's own Adam recomputes its
 * bias-correction accumulators with `pow` on restore, which differs in the last bits from the
 * running products of an uninterrupted run, and would break bitwise resume.)
 *
 * ```ts
 * const adam = new Adam(vars, { lr: 2e-4, beta1: 0.5 });
 * adam.apply(grads); // one update
 * ```
 */
import * as tf from "@tensorflow/tfjs-core";
import { float32View, newTensorLike, wasmMemory } from "../tfjs/backend.ts";
import { adamKernel } from "./adam_simd.ts";

export interface AdamOptions {
  lr: number;
  beta1: number;
  beta2?: number;
  epsilon?: number;
  /** Update in the backend's memory where possible (default true); false uses tfjs ops. */
  inPlace?: boolean;
}

export class Adam {
  readonly vars: tf.Variable[];
  readonly m: tf.Variable[];
  readonly v: tf.Variable[];
  /** Updates applied so far. */
  t = 0;
  /** Learning rate; may be changed between updates (schedules). */
  lr: number;
  readonly #beta1: number;
  readonly #beta2: number;
  readonly #epsilon: number;
  readonly #inPlace: boolean;

  constructor(vars: tf.Variable[], options: AdamOptions) {
    this.vars = vars;
    this.m = vars.map((x) => tf.variable(tf.zerosLike(x), false));
    this.v = vars.map((x) => tf.variable(tf.zerosLike(x), false));
    this.lr = options.lr;
    this.#beta1 = options.beta1;
    this.#beta2 = options.beta2 ?? 0.999;
    this.#epsilon = options.epsilon ?? 1e-8;
    this.#inPlace = options.inPlace ?? true;
  }

  /** One update with `grads[i]` the gradient of `vars[i]`. */
  apply(grads: tf.Tensor[]): void {
    this.t += 1;
    // Bias corrections in float64 from the step count: exact on resume.
    const stepSize = this.lr / (1 - this.#beta1 ** this.t);
    const sqrtCorrection2 = Math.sqrt(1 - this.#beta2 ** this.t);
    grads.forEach((g, i) => {
      if (!(this.#inPlace && this.#applyInPlace(i, g, stepSize, sqrtCorrection2))) {
        this.#applyWithOps(i, g, stepSize, sqrtCorrection2);
      }
    });
  }

  /**
   * The update without kernel launches: on the wasm backend one WASM SIMD pass over the
   * backend's memory (adam_simd.ts), elsewhere one JavaScript loop. The moments are updated in
   * place and the new weights go to a fresh tensor (never in place: the wasm matMul caches
   * packed weights by tensor id). Returns false when the backend exposes no memory views.
   */
  #applyInPlace(i: number, grad: tf.Tensor, stepSize: number, sqrtCorrection2: number): boolean {
    const b1 = this.#beta1, b2 = this.#beta2, eps = this.#epsilon;
    const memory = wasmMemory();
    const kernel = memory && adamKernel(memory);
    if (kernel) {
      const w = this.vars[i];
      const out = newTensorLike(w);
      const offsets = [w, grad, this.m[i], this.v[i], out].map((t) => float32View(t)?.byteOffset);
      if (offsets.every((o) => o !== undefined)) {
        const [pw, pg, pm, pv, po] = offsets as number[];
        kernel({ w: pw, g: pg, m: pm, v: pv, out: po }, w.size, {
          b1,
          b2,
          step: stepSize,
          inv: 1 / sqrtCorrection2,
          eps,
        });
        w.assign(out);
        out.dispose();
        return true;
      }
      out.dispose();
    }
    const m = float32View(this.m[i]), v = float32View(this.v[i]);
    const g = float32View(grad), w = float32View(this.vars[i]);
    if (!m || !v || !g || !w) return false;
    const next = new Float32Array(w.length);
    for (let j = 0; j < w.length; j++) {
      const gj = g[j];
      const mj = m[j] = b1 * m[j] + (1 - b1) * gj;
      const vj = v[j] = b2 * v[j] + (1 - b2) * gj * gj;
      next[j] = w[j] - stepSize * mj / (Math.sqrt(vj) / sqrtCorrection2 + eps);
    }
    tf.tidy(() => this.vars[i].assign(tf.tensor(next, this.vars[i].shape)));
    return true;
  }

  /** The same update with tfjs ops, for backends without memory views. */
  #applyWithOps(i: number, g: tf.Tensor, stepSize: number, sqrtCorrection2: number): void {
    tf.tidy(() => {
      const m = tf.add(tf.mul(this.m[i], this.#beta1), tf.mul(g, 1 - this.#beta1));
      const v = tf.add(tf.mul(this.v[i], this.#beta2), tf.mul(tf.square(g), 1 - this.#beta2));
      this.m[i].assign(m);
      this.v[i].assign(v);
      const denom = tf.add(tf.div(tf.sqrt(v), sqrtCorrection2), this.#epsilon);
      this.vars[i].assign(tf.sub(this.vars[i], tf.mul(tf.div(m, denom), stepSize)));
    });
  }

  /** Replaces the state with saved moments (copied) and step count. */
  restore(t: number, m: tf.Tensor[], v: tf.Tensor[]): void {
    if (m.length !== this.m.length || v.length !== this.v.length) {
      throw new Error(`optimizer state has ${m.length} moments, expected ${this.m.length}`);
    }
    m.forEach((x, i) => this.m[i].assign(x));
    v.forEach((x, i) => this.v[i].assign(x));
    this.t = t;
  }

  dispose(): void {
    for (const x of [...this.m, ...this.v]) x.dispose();
  }
}
