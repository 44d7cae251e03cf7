/**
 * The Hono app: middleware, the routes (serve/handlers/), and the one error path. Built from
 * already loaded (or failed, or loading) models, so tests call `app.request()` with no network and
 * `serve/main.ts` is the only file that touches `Deno.serve`.
 *
 * ```ts
 * const app = createApp({ ready: true, sampler: new Sampler(await loadRunner("models/mnist")) });
 * const res = await app.request("/sample?n=4&seed=1");
 * ```
 */
import { Hono } from "hono";
import { ROUTES } from "./routes.ts";
import type { QueueOptions } from "./queue.ts";
import { withEdgeHeaders } from "./headers.ts";
import { ResponseCache } from "./response_cache.ts";
import { ApiFailure, clip, errorResponse } from "./errors.ts";
import { type ModelState, nameOf, type ServedModels, ServedSet } from "./served.ts";
import { mountSampleRoutes } from "./handlers/samples.ts";
import { mountInfoRoutes } from "./handlers/info.ts";
import { mountPage } from "./handlers/page.ts";

export type { ModelEntry, ModelState, ServedModels } from "./served.ts";
export { ServedSet } from "./served.ts";

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
export function createApp(
  input: ModelState | ServedModels | ServedSet,
  options: AppOptions = {},
): Hono {
  const app = new Hono();
  // A ServedSet given by the caller (serve/main.ts, to load models in the background) keeps its
  // own queue options.
  const models = input instanceof ServedSet ? input : new ServedSet(
    "models" in input
      ? input
      : { models: [{ name: nameOf(input), state: input }], defaultName: nameOf(input) },
    options.queue,
  );
  const cache = new ResponseCache(options.cacheBytes);

  mountSampleRoutes(app, models, cache);
  mountInfoRoutes(app, models);
  mountPage(app, models);

  // No route for the path: a 405 naming the methods when the path has routes for others.
  app.notFound((c) => {
    const methods = allowedMethods(app, c.req.path);
    if (methods) {
      return errorResponse(
        new ApiFailure(
          405,
          "method_not_allowed",
          `${c.req.method} is not allowed on ${c.req.path}; use ${methods.join(" or ")}`,
          { Allow: methods.join(", ") },
        ),
      );
    }
    return errorResponse(
      new ApiFailure(
        404,
        "not_found",
        `no route ${JSON.stringify(clip(c.req.path, 80))}; routes: ${
          ROUTES.map((r) => r.path).join(", ")
        }`,
      ),
    );
  });
  // The one error path: refusals thrown by handlers, and anything unexpected as a logged 500.
  app.onError((err, c) => {
    if (err instanceof ApiFailure) return errorResponse(err);
    console.error(`error: ${c.req.method} ${clip(c.req.path, 80)}: ${err.message}`);
    return errorResponse(
      new ApiFailure(
        500,
        "internal_error",
        "the server failed to answer this request; it has been logged",
      ),
    );
  });
  // A repeated seeded request is answered from the cache before Hono routes it; the edge headers
  // wrap both paths.
  const route = app.fetch;
  app.fetch = (request, ...rest) =>
    cache.forRequest(request)?.response() ?? route(request, ...rest);
  return withEdgeHeaders(app);
}

/**
 * The methods `app` routes for `path` (GET implying HEAD), or undefined if none. Every route here
 * is a fixed path, so a map from path to methods does what hono's methodNotAllowed middleware
 * does, without putting a middleware layer on every request (see withEdgeHeaders).
 */
function allowedMethods(app: Hono, path: string): string[] | undefined {
  let byPath = methodsByApp.get(app);
  if (!byPath) {
    byPath = new Map();
    for (const route of app.routes) {
      if (route.method === "ALL") continue;
      const methods = byPath.get(route.path) ?? new Set<string>();
      methods.add(route.method);
      if (route.method === "GET") methods.add("HEAD");
      byPath.set(route.path, methods);
    }
    methodsByApp.set(app, byPath);
  }
  const methods = byPath.get(path);
  return methods && [...methods];
}

const methodsByApp = new WeakMap<Hono, Map<string, Set<string>>>();
