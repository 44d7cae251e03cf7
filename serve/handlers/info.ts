/** GET /models, /healthz, /model and /openapi.json: what the server offers and its health. */
import type { Hono } from "hono";
import { MODEL_PARAMS } from "../params.ts";
import { ApiFailure, query } from "../errors.ts";
import { openApiDocument } from "../routes.ts";
import type { ServedSet } from "../served.ts";

export function mountInfoRoutes(app: Hono, models: ServedSet): void {
  const openApi = JSON.stringify(openApiDocument());
  app.get("/models", (c) => {
    query(c, {});
    c.header("Cache-Control", "no-store");
    return c.json({
      default: models.defaultName,
      models: [...models.entries.values()].map((e) => models.describe(e)),
    });
  });

  app.get("/healthz", (c) => {
    query(c, {});
    const state = models.defaultEntry.state;
    if (!state) {
      throw new ApiFailure(503, "model_unavailable", "the default model is still loading");
    }
    const sampler = models.readySampler(models.defaultEntry, state);
    c.header("Cache-Control", "no-store");
    // The engines' memory lets a soak test (and an operator) see a leak.
    return c.json({
      status: "ok",
      model: sampler.id,
      memoryBytes: sampler.memoryBytes,
      models: Object.fromEntries(
        [...models.entries.values()].map((e) => {
          const { name, status, id, memoryBytes, reason } = models.describe(e) as Record<
            string,
            unknown
          >;
          return [name, { status, id, memoryBytes, reason }];
        }),
      ),
    });
  });

  app.get("/model", async (c) => {
    const entry = models.entryFor(query(c, MODEL_PARAMS).model);
    const sampler = models.readySampler(entry, await entry.settled());
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
}
