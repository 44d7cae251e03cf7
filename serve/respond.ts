/**
 * The shared tail of /sample and /interpolate: format negotiation, caching headers and the
 * response cache, the queued generation and the encoding.
 */
import type { Context } from "hono";
import { accepts } from "hono/accepts";
import { ApiFailure } from "./errors.ts";
import { addTiming, JSON_TYPE, Prepared, reply } from "./headers.ts";
import { QueueFullError } from "./queue.ts";
import type { ResponseCache } from "./response_cache.ts";
import type { ModelState, Served, ServedSet } from "./served.ts";
import type { Sampler } from "./sampler.ts";

export const IMMUTABLE = "public, max-age=31536000, immutable";
const MEDIA_TYPES = ["application/json", "image/png"];

/** What a sample route asks of the tail. */
export interface SampleRequest {
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
}

export function respondWithSamples(
  c: Context,
  models: ServedSet,
  cache: ResponseCache,
  entry: Served,
  state: ModelState,
  request: SampleRequest,
): Response | Promise<Response> {
  const sampler = models.readySampler(entry, state);
  // Without ?format=, the Accept header picks (hono/accepts: highest q, then most specific).
  const format = request.format ??
    (accepts(c, { header: "Accept", supports: MEDIA_TYPES, default: MEDIA_TYPES[0] }) ===
        "image/png"
      ? "png"
      : "json");
  if (format === "png" && !sampler.isImage && !sampler.isPoints) {
    throw new ApiFailure(
      400,
      "invalid_parameter",
      `format: png needs an image or 2-D point model; ${sampler.id} outputs samples of shape [${sampler.metadata.outputShape}]; use format=json`,
    );
  }
  // The ETag names the response exactly; the engine's version is part of it, since another
  // engine may round differently. Without ?format= the response also varies by Accept.
  const etag = request.cacheable ? etagOf(c.req.path, sampler, format, request) : undefined;
  const key = etag && (request.format === undefined ? `${etag} vary` : etag);
  if (etag) {
    if (matchesEtag(c.req.header("If-None-Match"), etag)) {
      return reply(null, 304, sampleHeaders(request, etag));
    }
    const hit = cache.get(key!);
    if (hit) {
      if (c.req.method === "GET") cache.link(c.req.raw, key!);
      return hit.response();
    }
  }
  return generate(c, cache, entry, sampler, format, request, key, sampleHeaders(request, etag));
}

/** A response made now: queued generation, encoding, and the cache for a seeded one (`key`). */
async function generate(
  c: Context,
  cache: ResponseCache,
  entry: Served,
  sampler: Sampler,
  format: "json" | "png",
  request: SampleRequest,
  key: string | undefined,
  headers: Record<string, string>,
): Promise<Response> {
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
  headers["Content-Type"] = format === "png" ? "image/png" : JSON_TYPE;
  if (!key || !cache.admit(key)) return reply(body as Uint8Array<ArrayBuffer>, 200, headers);
  const ready = new Prepared(body as Uint8Array<ArrayBuffer>, 200, headers);
  cache.set(key, ready, body.length);
  return ready.response();
}

/** The tag of a seeded response: model id, engine, route, format, n, the fields, PNG scale. */
function etagOf(path: string, sampler: Sampler, format: string, request: SampleRequest): string {
  const parts = [sampler.id, sampler.engine, path.slice(1), format, request.n];
  for (const key in request.fields) parts.push(request.fields[key]);
  if (format === "png") parts.push(request.scale);
  return `"${parts.join("-")}"`;
}

/** The headers of a sample response before its Content-Type: X-Seed and kin, Vary, caching. */
function sampleHeaders(request: SampleRequest, etag: string | undefined): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const key in request.fields) {
    headers[`X-${key[0].toUpperCase()}${key.slice(1)}`] = String(request.fields[key]);
  }
  if (request.format === undefined) headers["Vary"] = "Accept";
  if (etag) {
    headers["ETag"] = etag;
    headers["Cache-Control"] = IMMUTABLE;
  } else {
    headers["Cache-Control"] = "no-store";
  }
  return headers;
}

function matchesEtag(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  return header.split(",").some((tag) => {
    const t = tag.trim();
    return t === "*" || t === etag || t === `W/${etag}`;
  });
}
