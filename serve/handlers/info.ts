/** GET /models, /healthz, /model and /openapi.json: what the server offers and its health. */
import type { Hono } from "hono";
import { MODEL_PARAMS } from "../params.ts";
import { ApiFailure, query } from "../errors.ts";
import { openApiDocument } from "../routes.ts";
import { JSON_TYPE, Prepared, replyJson } from "../headers.ts";

const NO_STORE = { "Cache-Control": "no-store" };
import type { ServedSet } from "../served.ts";

export function mountInfoRoutes(app: Hono, models: ServedSet): void {
  const openApi = new Prepared(JSON.stringify(openApiDocument()), 200, {
    "Content-Type": JSON_TYPE,
    "Cache-Control": "no-cache",
  });
  const health = new Map<string, Prepared>();
  app.get("/models", (c) => {
    query(c, {});
    return replyJson(
      {
        default: models.defaultName,
        models: [...models.entries.values()].map((e) => models.describe(e)),
      },
      200,
      NO_STORE,
    );
  });

  app.get("/healthz", (c) => {
    query(c, {});
    const state = models.defaultEntry.state;
    if (!state) {
      throw new ApiFailure(503, "model_unavailable", "the default model is still loading");
    }
    models.readySampler(models.defaultEntry, state);
    // Each model's status and nothing more (ids, memory and reasons are in /models): a response
    // over ~512 bytes, headers included, takes Deno's slower write path (measured with wrk: 94,000
    // against 62,000 requests/s for the same headers), and a probe is called often.
    const status: Record<string, string> = {};
    for (const e of models.entries.values()) status[e.name] = models.statusOf(e);
    // A probe sees the same few bodies again and again: each is prepared once (see Prepared).
    const body = JSON.stringify({ status: "ok", models: status });
    let ready = health.get(body);
    if (!ready) {
      if (health.size >= 64) health.clear();
      ready = new Prepared(body, 200, { "Content-Type": JSON_TYPE, ...NO_STORE });
      health.set(body, ready);
    }
    return ready.response();
  });

  app.get("/model", async (c) => {
    const entry = models.entryFor(query(c, MODEL_PARAMS).model);
    const sampler = models.readySampler(entry, await entry.settled());
    const { golden, ...metadata } = sampler.metadata;
    return replyJson(
      {
        id: sampler.id,
        ...metadata,
        golden: { seed: golden.seed, n: golden.n, tolerance: golden.tolerance },
      },
      200,
      { "Cache-Control": "no-cache" },
    );
  });

  app.get("/openapi.json", (c) => {
    query(c, {});
    return openApi.response();
  });
}
