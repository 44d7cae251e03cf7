/**
 * A bounded queue of pending generations that batches concurrent requests into one `predict`.
 *
 * Generation is synchronous, so without a queue every request would run in turn while others
 * wait unseen in the socket backlog. Here a request joins the queue (or is refused at once when
 * `maxPendingSamples` are already waiting: the caller answers 503 with Retry-After), and a
 * drain on the next macrotask runs everything queued as one batch. Each output row depends only
 * on its own latent row, so a sample is the same whether it was generated alone or batched
 * (tests/queue_test.ts checks this bit for bit).
 *
 * ```ts
 * const queue = new SampleQueue(sampler, { maxPendingSamples: 1024, maxBatchSamples: 256 });
 * const values = await queue.submit(sampler.inputs(latentBatch(42, 4, 100), 4, []), 4);
 * ```
 */
import type { Sampler } from "./sampler.ts";

export interface QueueOptions {
  /** Samples that may wait at once; beyond this `submit` throws `QueueFullError`. */
  maxPendingSamples: number;
  /** Most samples in one batched predict. */
  maxBatchSamples: number;
}

export const QUEUE_DEFAULTS: QueueOptions = { maxPendingSamples: 1024, maxBatchSamples: 256 };

/**
 * Runs `fn` as a new task, after the requests already waiting in this turn of the event loop
 * have been queued, without a timer: setTimeout(0) waits ~1-3 ms here, which a lone request
 * would pay in full (measured: 2.8 ms vs 0.3 ms per sequential /sample in-process).
 */
export function nextTask(fn: () => void): void {
  // A fresh channel per call, both ends closed once it fires, so an idle queue keeps no handle
  // open (closing only the receiving end leaked ~5.6 KB per call: measured).
  const channel = new MessageChannel();
  channel.port1.onmessage = () => {
    channel.port1.close();
    channel.port2.close();
    fn();
  };
  channel.port2.postMessage(null);
}

export class QueueFullError extends Error {
  override name = "QueueFullError";
}

interface Job {
  inputs: Float32Array;
  n: number;
  resolve: (values: Float32Array) => void;
  reject: (err: unknown) => void;
}

export class SampleQueue {
  readonly #sampler: Sampler;
  readonly #options: QueueOptions;
  #jobs: Job[] = [];
  #pendingSamples = 0;
  #scheduled = false;
  /** Batches run so far (for tests and metrics). */
  batches = 0;

  constructor(sampler: Sampler, options: Partial<QueueOptions> = {}) {
    this.#sampler = sampler;
    this.#options = { ...QUEUE_DEFAULTS, ...options };
  }

  get pendingSamples(): number {
    return this.#pendingSamples;
  }

  /** The generator's output for `n` input rows, possibly computed in a batch with others. */
  submit(inputs: Float32Array, n: number): Promise<Float32Array> {
    if (this.#pendingSamples + n > this.#options.maxPendingSamples) {
      return Promise.reject(
        new QueueFullError(
          `${this.#pendingSamples} samples are already queued (limit ${this.#options.maxPendingSamples})`,
        ),
      );
    }
    this.#pendingSamples += n;
    return new Promise((resolve, reject) => {
      this.#jobs.push({ inputs, n, resolve, reject });
      if (!this.#scheduled) {
        this.#scheduled = true;
        nextTask(() => this.#drain());
      }
    });
  }

  #drain(): void {
    this.#scheduled = false;
    const batch: Job[] = [];
    let total = 0;
    while (
      this.#jobs.length &&
      (batch.length === 0 || total + this.#jobs[0].n <= this.#options.maxBatchSamples)
    ) {
      const job = this.#jobs.shift()!;
      batch.push(job);
      total += job.n;
    }
    if (this.#jobs.length) {
      this.#scheduled = true;
      nextTask(() => this.#drain());
    }
    const { size, classes } = this.#sampler.spec;
    const width = size + classes;
    const sampleSize = this.#sampler.sampleSize;
    try {
      const inputs = new Float32Array(total * width);
      let row = 0;
      for (const job of batch) {
        inputs.set(job.inputs, row * width);
        row += job.n;
      }
      const out = this.#sampler.predict(inputs, total);
      this.batches += 1;
      row = 0;
      for (const job of batch) {
        job.resolve(out.slice(row * sampleSize, (row + job.n) * sampleSize));
        row += job.n;
      }
    } catch (err) {
      for (const job of batch) job.reject(err);
    } finally {
      this.#pendingSamples -= total;
    }
  }
}
