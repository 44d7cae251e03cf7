/** GET /sample and GET /interpolate: samples for a seed, or a walk between two seeds. */
import type { Context, Hono } from "hono";
import { INTERPOLATE_PARAMS, type Params, SAMPLE_PARAMS } from "../params.ts";
import { freshSeed, interpolateLatents, latentBatch } from "../../random/seeded.ts";
import { inputLabels } from "../../format/generator_metadata.ts";
import type { Sampler } from "../sampler.ts";
import { query } from "../errors.ts";
import { respondWithSamples } from "../respond.ts";
import type { ResponseCache } from "../response_cache.ts";
import type { ModelState, Served, ServedSet } from "../served.ts";

export function mountSampleRoutes(app: Hono, models: ServedSet, cache: ResponseCache): void {
  app.get("/sample", (c) => {
    const q = query(c, SAMPLE_PARAMS);
    const entry = models.entryFor(q.model);
    return whenSettled(entry, (state) => sample(c, q, entry, state));
  });

  /** GET /sample once the model is settled; synchronous for a cached response. */
  function sample(c: Context, q: Params<typeof SAMPLE_PARAMS>, entry: Served, state: ModelState) {
    const { label } = q;
    models.checkLabel(state, label);
    const seed = q.seed ?? freshSeed();
    const n = q.n!;
    return respondWithSamples(c, models, cache, entry, state, {
      inputs: () => {
        const { sampler } = state as { sampler: Sampler };
        const labels = inputLabels(sampler.spec, seed, n, label);
        return { rows: sampler.inputs(latentBatch(seed, n, sampler.spec.size), n, labels), labels };
      },
      n,
      format: c.req.query("format") === undefined ? undefined : q.format,
      scale: q.scale!,
      fields: { seed, ...(label === undefined ? {} : { label }) },
      cacheable: q.seed !== undefined,
    });
  }

  app.get("/interpolate", (c) => {
    const q = query(c, INTERPOLATE_PARAMS);
    const entry = models.entryFor(q.model);
    return whenSettled(entry, (state) => interpolate(c, q, entry, state));
  });

  /** GET /interpolate once the model is settled; synchronous for a cached response. */
  function interpolate(
    c: Context,
    q: Params<typeof INTERPOLATE_PARAMS>,
    entry: Served,
    state: ModelState,
  ) {
    const { label } = q;
    models.checkLabel(state, label);
    const from = q.from ?? freshSeed();
    const to = q.to ?? freshSeed();
    const steps = q.steps!;
    return respondWithSamples(c, models, cache, entry, state, {
      inputs: () => {
        const { sampler } = state as { sampler: Sampler };
        // One label along the whole walk: the given one, or the one `from` draws.
        const [first] = inputLabels(sampler.spec, from, 1, label);
        const labels = first === undefined ? [] : new Array(steps).fill(first);
        return {
          rows: sampler.inputs(
            interpolateLatents(from, to, steps, sampler.spec.size),
            steps,
            labels,
          ),
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
  }
}

/** `then(state)` now if the model has settled, else once it has. */
function whenSettled(
  entry: Served,
  then: (state: ModelState) => Response | Promise<Response>,
): Response | Promise<Response> {
  const state = entry.settled();
  return state instanceof Promise ? state.then(then) : then(state);
}
