/**
 * The server's one error path: handlers throw `ApiFailure` (a bad query, an unknown model, a
 * busy queue, ...) and the app's `onError` turns it into JSON `{error, detail}` with its status.
 *
 * ```ts
 * const q = query(c, SAMPLE_PARAMS); // the parsed parameters, or a thrown 400
 * throw new ApiFailure(503, "busy", "the server is busy; retry in a second", { "Retry-After": "1" });
 * ```
 */
import type { Context } from "hono";
import { type ApiError, parseQuery } from "./params.ts";
import { replyJson } from "./headers.ts";

export { clip } from "./params.ts";

/** A request the server refuses; shaped by `errorResponse` (as Hono's HTTPException). */
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

/** The JSON response for a refusal; errors are never cached. */
export function errorResponse(failure: ApiFailure): Response {
  const body: ApiError = { error: failure.code, detail: failure.detail };
  return replyJson(body, failure.status, { "Cache-Control": "no-store", ...failure.headers });
}

/** The route's query parameters, parsed and checked against `specs`, or a thrown 400. */
export function query<S extends Parameters<typeof parseQuery>[1]>(c: Context, specs: S) {
  // The raw query string, without a second parse of the whole URL (Hono has routed on it already).
  const url = c.req.url;
  const mark = url.indexOf("?");
  const q = parseQuery(mark < 0 ? "" : url.slice(mark + 1).split("#")[0], specs);
  if (!q.ok) throw new ApiFailure(400, q.error.error, q.error.detail);
  return q.values;
}
