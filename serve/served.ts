/**
 * The models a server offers: each one's state (loading, ready with its sampler and queue, or
 * failed with a reason), the default, and the checks every model route shares.
 *
 * ```ts
 * const models = new ServedSet({ models: [{ name: "mnist", state }], defaultName: "mnist" });
 * const entry = models.entryFor(q.model); // or a thrown 400 naming the models
 * const sampler = models.readySampler(entry, await entry.settled()); // or a thrown 503
 * ```
 */
import type { Sampler } from "./sampler.ts";
import { type QueueOptions, SampleQueue } from "./queue.ts";
import { ApiFailure } from "./errors.ts";

/** The model as the server sees it: ready to sample, or failed with a reason. */
export type ModelState = { ready: true; sampler: Sampler } | { ready: false; reason: string };

/** One served model: its name (the ?model= value) and its state, or how to load it. */
export interface ModelEntry {
  name: string;
  /**
   * The state; or the state still loading (a promise); or a loader run on first use (memoised),
   * so models may load after listen.
   */
  state: ModelState | Promise<ModelState> | (() => Promise<ModelState>);
}

/** Every model a server offers and the one used without ?model=. */
export interface ServedModels {
  models: ModelEntry[];
  defaultName: string;
}

/** A model entry at run time: its settled state once loaded, and its queue. */
export class Served {
  state?: ModelState;
  queue?: SampleQueue;
  #loading?: Promise<ModelState>;

  constructor(
    readonly name: string,
    private readonly source: ModelEntry["state"],
    private readonly queueOptions?: Partial<QueueOptions>,
  ) {
    if (source instanceof Promise) this.load();
    else if (typeof source !== "function") this.#settle(source);
  }

  /** The settled state, without a microtask on the request path once the model is loaded. */
  settled(): ModelState | Promise<ModelState> {
    return this.state ?? this.load();
  }

  /** Starts loading (once) and resolves to the settled state. */
  load(): Promise<ModelState> {
    if (this.state) return Promise.resolve(this.state);
    const source = this.source as Promise<ModelState> | (() => Promise<ModelState>);
    return this.#loading ??= (source instanceof Promise ? source : source()).catch((err) => ({
      ready: false as const,
      reason: (err as Error).message,
    })).then((state) => this.#settle(state));
  }

  #settle(state: ModelState): ModelState {
    this.state = state;
    if (state.ready) this.queue = new SampleQueue(state.sampler, this.queueOptions);
    return state;
  }
}

/** The served models by name, and the default one. */
export class ServedSet {
  readonly entries: Map<string, Served>;
  readonly defaultName: string;
  readonly defaultEntry: Served;

  constructor(served: ServedModels, queueOptions?: Partial<QueueOptions>) {
    this.entries = new Map(
      served.models.map((m) => [m.name, new Served(m.name, m.state, queueOptions)]),
    );
    this.defaultName = served.defaultName;
    const entry = this.entries.get(served.defaultName);
    if (!entry) {
      throw new Error(`the default model ${served.defaultName} is not among the served models`);
    }
    this.defaultEntry = entry;
  }

  /** The entry `?model=` names (or the default), or a 400 naming the models there are. */
  entryFor(name: string | undefined): Served {
    const entry = this.entries.get(name ?? this.defaultName);
    if (entry) return entry;
    throw new ApiFailure(
      400,
      "invalid_parameter",
      `model: got ${JSON.stringify(name)}; accepts one of ${
        [...this.entries.keys()].join(", ")
      } (see /models)`,
    );
  }

  /** The entry's sampler, or a 503 with the reason it has none. */
  readySampler(entry: Served, state: ModelState): Sampler {
    if (state.ready) return state.sampler;
    throw new ApiFailure(
      503,
      "model_unavailable",
      this.entries.size > 1 ? `model ${entry.name}: ${state.reason}` : state.reason,
    );
  }

  /** A 400 for a label this model cannot take (a model still failing is the 503's business). */
  checkLabel(state: ModelState, label: number | undefined): void {
    if (label === undefined || !state.ready) return;
    const { classes } = state.sampler.spec;
    // A self-conditioned model's clusters are not labels a caller may pick.
    if (!state.sampler.metadata.labels) {
      throw new ApiFailure(
        400,
        "invalid_parameter",
        state.sampler.metadata.clusters
          ? `label: ${state.sampler.id} is self-conditioned on unlabelled clusters (drawn from the seed) and takes no label`
          : `label: ${state.sampler.id} is unconditional and takes no label`,
      );
    }
    if (label >= classes) {
      throw new ApiFailure(
        400,
        "invalid_parameter",
        `label: got "${label}"; accepts an integer 0..${classes - 1} for ${state.sampler.id}`,
      );
    }
  }

  /** A model's status for /healthz: loading, ready or unavailable. */
  statusOf(entry: Served): "loading" | "ready" | "unavailable" {
    return entry.state ? entry.state.ready ? "ready" : "unavailable" : "loading";
  }

  /** What /models says of one model. */
  describe(entry: Served) {
    const state = entry.state;
    if (!state) return { name: entry.name, status: "loading" };
    if (!state.ready) return { name: entry.name, status: "unavailable", reason: state.reason };
    const { sampler } = state;
    const meta = sampler.metadata;
    return {
      name: entry.name,
      status: "ready",
      id: sampler.id,
      dataset: meta.dataset,
      outputShape: meta.outputShape,
      latentSize: meta.latent.size,
      ...(meta.labels ? { labels: meta.labels } : {}),
      ...(meta.clusters ? { clusters: meta.clusters.count } : {}),
      engine: sampler.engine,
      memoryBytes: sampler.memoryBytes,
      ...(meta.metrics ? { metrics: meta.metrics } : {}),
    };
  }
}

/** A single model's name: its folder name from the id ("mnist@1a2b…" -> "mnist"). */
export function nameOf(state: ModelState): string {
  return state.ready ? state.sampler.id.split("@")[0] : "model";
}
