/**
 * The Hono app: built from an already loaded (or failed) model, so tests call `app.request()`
 * with no network and `serve/main.ts` is the only file that touches `Deno.serve`.
 *
 * ```ts
 * const app = createApp({ ready: true, sampler: new Sampler(await loadEdgeGenerator("models/mnist")) });
 * const res = await app.request("/sample?n=4&seed=1");
 * ```
 */
import { type Context, Hono } from "hono";
import { accepts } from "hono/accepts";
import { methodNotAllowed } from "hono/method-not-allowed";
import {
  type ApiError,
  INTERPOLATE_PARAMS,
  MODEL_PARAMS,
  PAGE_PARAMS,
  parseQuery,
  SAMPLE_PARAMS,
} from "./params.ts";
import { interpolateLatents, labelsFor, latentBatch } from "../random/seeded.ts";
import { openApiDocument, ROUTES } from "./routes.ts";
import type { Sampler } from "./sampler.ts";
import { QueueFullError, type QueueOptions, SampleQueue } from "./queue.ts";
import { renderPage } from "./page.ts";
import { addTiming, edgeHeaders } from "./headers.ts";
import { ResponseCache } from "./response_cache.ts";

/** The model as the server sees it: ready to sample, or failed with a reason. */
export type ModelState = { ready: true; sampler: Sampler } | { ready: false; reason: string };

/** One served model: its name (the ?model= value) and its state, or how to load it. */
export interface ModelEntry {
  name: string;
  /** The state, or a loader run on first use (memoised), so models may load after listen. */
  state: ModelState | (() => Promise<ModelState>);
}

/** Every model a server offers and the one used without ?model=. */
export interface ServedModels {
  models: ModelEntry[];
  defaultName: string;
}

/** A model entry at run time: its settled state once loaded, and its queue. */
class Served {
  state?: ModelState;
  queue?: SampleQueue;
  #loading?: Promise<ModelState>;

  constructor(
    readonly name: string,
    private readonly source: ModelEntry["state"],
    private readonly queueOptions?: Partial<QueueOptions>,
  ) {
    if (typeof source !== "function") this.#settle(source);
  }

  /** The settled state, without a microtask on the request path once the model is loaded. */
  settled(): ModelState | Promise<ModelState> {
    return this.state ?? this.load();
  }

  /** Starts loading (once) and resolves to the settled state. */
  load(): Promise<ModelState> {
    if (this.state) return Promise.resolve(this.state);
    const source = this.source as () => Promise<ModelState>;
    return this.#loading ??= source().catch((err) => ({
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

const IMMUTABLE = "public, max-age=31536000, immutable";
const MEDIA_TYPES = ["application/json", "image/png"];

export interface AppOptions {
  /** Bounds on queued generation work (see serve/queue.ts). */
  queue?: Partial<QueueOptions>;
  /** Bytes of recently served seeded bodies kept for repeats (0 = no cache). */
  cacheBytes?: number;
}

/**
 * The app for one model (`createApp(state)`) or several (`createApp({ models, defaultName })`):
 * every model route takes `?model=NAME`, and without it uses the default.
 */
export function createApp(input: ModelState | ServedModels, options: AppOptions = {}): Hono {
  const app = new Hono();
  const served: ServedModels = "models" in input
    ? input
    : { models: [{ name: nameOf(input), state: input }], defaultName: nameOf(input) };
  const entries = new Map(
    served.models.map((m) => [m.name, new Served(m.name, m.state, options.queue)]),
  );
  const defaultEntry = entries.get(served.defaultName);
  if (!defaultEntry) {
    throw new Error(`the default model ${served.defaultName} is not among the served models`);
  }
  const openApi = JSON.stringify(openApiDocument());
  const cache = new ResponseCache(options.cacheBytes);

  /** The entry `?model=` names (or the default), or a 400 naming the models there are. */
  const entryFor = (name: string | undefined): Served => {
    const entry = entries.get(name ?? served.defaultName);
    if (entry) return entry;
    throw new ApiFailure(
      400,
      "invalid_parameter",
      `model: got ${JSON.stringify(name)}; accepts one of ${
        [...entries.keys()].join(", ")
      } (see /models)`,
    );
  };

  app.use(edgeHeaders());
  app.use(methodNotAllowed({
    app,
    onMethodNotAllowed: (c, methods) =>
      error(
        c,
        new ApiFailure(
          405,
          "method_not_allowed",
          `${c.req.method} is not allowed on ${c.req.path}; use ${methods.join(" or ")}`,
          { Allow: methods.join(", ") },
        ),
      ),
  }));

  /** The entry's sampler, or a 503 with the reason it has none. */
  const readySampler = (entry: Served, state: ModelState): Sampler => {
    if (state.ready) return state.sampler;
    throw new ApiFailure(
      503,
      "model_unavailable",
      entries.size > 1 ? `model ${entry.name}: ${state.reason}` : state.reason,
    );
  };

  /**
   * The shared tail of /sample and /interpolate: format negotiation, caching headers, the
   * queued generation and the encoding.
   */
  const respond = async (c: Context, entry: Served, state: ModelState, request: {
    /** The input rows and the label of each (labels empty for an unconditional model). */
    inputs: () => { rows: Float32Array; labels: number[] };
    n: number;
    format: "json" | "png" | undefined;
    scale: number;
    cols?: number;
    /** Echoed in the JSON body (seed, or from/to/steps) and as X- headers. */
    fields: Record<string, number>;
    /** Whether the caller fixed every seed (then the response is immutable). */
    cacheable: boolean;
  }) => {
    const sampler = readySampler(entry, state);
    // Without ?format=, the Accept header picks (hono/accepts: highest q, then most specific).
    const format = request.format ??
      (accepts(c, { header: "Accept", supports: MEDIA_TYPES, default: MEDIA_TYPES[0] }) ===
          "image/png"
        ? "png"
        : "json");
    if (format === "png" && !sampler.isImage) {
      throw new ApiFailure(
        400,
        "invalid_parameter",
        `format: png needs an image model; ${sampler.id} outputs points of shape [${sampler.metadata.outputShape}]; use format=json`,
      );
    }
    const headers: Record<string, string> = {};
    for (const [key, value] of Object.entries(request.fields)) {
      headers[`X-${key[0].toUpperCase()}${key.slice(1)}`] = String(value);
    }
    if (request.format === undefined) headers["Vary"] = "Accept";
    if (request.cacheable) {
      // The engine's version is part of the tag: another engine may round differently.
      const parts = [
        sampler.id,
        sampler.engine,
        c.req.path.slice(1),
        format,
        request.n,
        ...Object.values(request.fields),
      ];
      if (format === "png") parts.push(request.scale);
      const etag = `"${parts.join("-")}"`;
      headers["ETag"] = etag;
      headers["Cache-Control"] = IMMUTABLE;
      if (matchesEtag(c.req.header("If-None-Match"), etag)) return c.body(null, 304, headers);
      const hit = cache.get(etag);
      if (hit) {
        headers["Content-Type"] = hit.type;
        return c.body(hit.body as Uint8Array<ArrayBuffer> | string, 200, headers);
      }
    } else {
      headers["Cache-Control"] = "no-store";
    }

    // Queue wait plus the (possibly batched) predict.
    const generateStart = performance.now();
    let values: Float32Array;
    let inputs: { rows: Float32Array; labels: number[] };
    try {
      inputs = request.inputs();
      values = await entry.queue!.submit(inputs.rows, request.n);
    } catch (err) {
      if (!(err instanceof QueueFullError)) throw err;
      throw new ApiFailure(503, "busy", `the server is busy: ${err.message}; retry in a second`, {
        "Retry-After": "1",
      });
    } finally {
      addTiming(c, "generate", performance.now() - generateStart);
    }
    const encodeStart = performance.now();
    const body = format === "png"
      ? await sampler.png(values, request.n, request.scale, request.cols)
      : sampler.json(request.fields, values, request.n, inputs.labels);
    addTiming(c, "encode", performance.now() - encodeStart);
    headers["Content-Type"] = format === "png" ? "image/png" : "application/json; charset=UTF-8";
    if (headers["ETag"]) cache.set(headers["ETag"], { body, type: headers["Content-Type"] });
    return c.body(body as Uint8Array<ArrayBuffer> | string, 200, headers);
  };

  const randomSeed = () => crypto.getRandomValues(new Uint32Array(1))[0];

  /** A 400 for a label this model cannot take (a model still failing is the 503's business). */
  const checkLabel = (state: ModelState, label: number | undefined): void => {
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
  };

  app.get("/sample", async (c) => {
    const q = query(c, SAMPLE_PARAMS);
    const entry = entryFor(q.model);
    const { label } = q;
    const state = await entry.settled();
    checkLabel(state, label);
    const seed = q.seed ?? randomSeed();
    const n = q.n!;
    return respond(c, entry, state, {
      inputs: () => {
        const { sampler } = state as { sampler: Sampler };
        const { size, classes } = sampler.spec;
        const labels = classes ? labelsFor(seed, n, classes, label, sampler.spec.weights) : [];
        return { rows: sampler.inputs(latentBatch(seed, n, size), n, labels), labels };
      },
      n,
      format: c.req.query("format") === undefined ? undefined : q.format,
      scale: q.scale!,
      fields: { seed, ...(label === undefined ? {} : { label }) },
      cacheable: q.seed !== undefined,
    });
  });

  app.get("/interpolate", async (c) => {
    const q = query(c, INTERPOLATE_PARAMS);
    const entry = entryFor(q.model);
    const { label } = q;
    const state = await entry.settled();
    checkLabel(state, label);
    const from = q.from ?? randomSeed();
    const to = q.to ?? randomSeed();
    const steps = q.steps!;
    return respond(c, entry, state, {
      inputs: () => {
        const { sampler } = state as { sampler: Sampler };
        const { size, classes } = sampler.spec;
        // One label along the whole walk: the given one, or the one `from` draws.
        const labels = classes
          ? new Array(steps).fill(
            label ?? labelsFor(from, 1, classes, undefined, sampler.spec.weights)[0],
          )
          : [];
        return {
          rows: sampler.inputs(interpolateLatents(from, to, steps, size), steps, labels),
          labels,
        };
      },
      n: steps,
      format: c.req.query("format") === undefined ? undefined : q.format,
      scale: q.scale!,
      cols: steps,
      fields: { from, to, steps, ...(label === undefined ? {} : { label }) },
      cacheable: q.from !== undefined && q.to !== undefined,
    });
  });

  /** What /models and /healthz say of one model. */
  const describe = (entry: Served) => {
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
      engine: sampler.engine,
      memoryBytes: sampler.memoryBytes,
      ...(meta.metrics ? { metrics: meta.metrics } : {}),
    };
  };

  app.get("/models", (c) => {
    query(c, {});
    c.header("Cache-Control", "no-store");
    return c.json({ default: served.defaultName, models: [...entries.values()].map(describe) });
  });

  app.get("/healthz", (c) => {
    query(c, {});
    const state = defaultEntry.state;
    if (!state) {
      throw new ApiFailure(503, "model_unavailable", "the default model is still loading");
    }
    const sampler = readySampler(defaultEntry, state);
    c.header("Cache-Control", "no-store");
    // The engines' memory lets a soak test (and an operator) see a leak.
    return c.json({
      status: "ok",
      model: sampler.id,
      memoryBytes: sampler.memoryBytes,
      models: Object.fromEntries(
        [...entries.values()].map((e) => {
          const { name, status, id, memoryBytes, reason } = describe(e) as Record<string, unknown>;
          return [name, { status, id, memoryBytes, reason }];
        }),
      ),
    });
  });

  app.get("/model", async (c) => {
    const entry = entryFor(query(c, MODEL_PARAMS).model);
    const sampler = readySampler(entry, await entry.settled());
    const { golden, ...metadata } = sampler.metadata;
    c.header("Cache-Control", "no-cache");
    return c.json({
      id: sampler.id,
      ...metadata,
      golden: { seed: golden.seed, n: golden.n, tolerance: golden.tolerance },
    });
  });

  app.get("/openapi.json", (c) => {
    query(c, {});
    c.header("Content-Type", "application/json; charset=UTF-8");
    c.header("Cache-Control", "no-cache");
    return c.body(openApi);
  });

  app.get("/", async (c) => {
    const q = query(c, PAGE_PARAMS);
    const entry = entryFor(q.model);
    const state = await entry.settled();
    checkLabel(state, q.label);
    const seed = q.seed ?? randomSeed();
    c.header("Cache-Control", q.seed === undefined ? "no-store" : IMMUTABLE);
    // The picker lists the models that draw images; another model's page says why it has none.
    const pickable = [...entries.values()].filter((e) => e.state?.ready && e.state.sampler.isImage)
      .map((e) => e.name);
    return c.html(
      renderPage(
        state.ready ? state.sampler : undefined,
        {
          seed,
          label: q.label,
          model: q.model,
          models: entries.size > 1 ? pickable : [],
          current: entry.name,
        },
        state.ready ? undefined : state.reason,
      ),
    );
  });

  app.notFound((c) =>
    error(
      c,
      new ApiFailure(
        404,
        "not_found",
        `no route ${JSON.stringify(clip(c.req.path))}; routes: ${
          ROUTES.map((r) => r.path).join(", ")
        }`,
      ),
    )
  );
  // The one error path: refusals thrown by handlers, and anything unexpected as a logged 500.
  app.onError((err, c) => {
    if (err instanceof ApiFailure) return error(c, err);
    console.error(`error: ${c.req.method} ${clip(c.req.path)}: ${err.message}`);
    return error(
      c,
      new ApiFailure(
        500,
        "internal_error",
        "the server failed to answer this request; it has been logged",
      ),
    );
  });
  return app;
}

/** A single model's name: its folder name from the id ("mnist@1a2b…" -> "mnist"). */
function nameOf(state: ModelState): string {
  return state.ready ? state.sampler.id.split("@")[0] : "model";
}

/**
 * A request the server refuses: thrown anywhere in a handler and shaped into the JSON
 * `{error, detail}` by the app's one `onError` (as Hono's HTTPException).
 */
export class ApiFailure extends Error {
  constructor(
    readonly status: 400 | 404 | 405 | 500 | 503,
    readonly code: string,
    readonly detail: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(detail);
  }
}

function error(c: Context, failure: ApiFailure) {
  const body: ApiError = { error: failure.code, detail: failure.detail };
  return c.json(body, failure.status, { "Cache-Control": "no-store", ...failure.headers });
}

/** The route's query parameters, parsed and checked against `specs`, or a 400. */
function query<S extends Parameters<typeof parseQuery>[1]>(c: Context, specs: S) {
  const q = parseQuery(new URL(c.req.url), specs);
  if (!q.ok) throw new ApiFailure(400, q.error.error, q.error.detail);
  return q.values;
}

function matchesEtag(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  return header.split(",").some((tag) => {
    const t = tag.trim();
    return t === "*" || t === etag || t === `W/${etag}`;
  });
}

function clip(text: string): string {
  return text.length > 80 ? `${text.slice(0, 80)}…` : text;
}
