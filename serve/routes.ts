/**
 * The public routes and their parameters, the single description from which the app validates
 * requests and `/openapi.json` is generated.
 */
import {
  INTERPOLATE_PARAMS,
  MODEL_PARAMS,
  PAGE_PARAMS,
  type ParamSpec,
  SAMPLE_LIMITS,
  SAMPLE_PARAMS,
} from "./params.ts";

export interface RouteSpec {
  path: string;
  summary: string;
  params: Record<string, ParamSpec<unknown>>;
  /** Status code to description and media types. */
  responses: Record<string, { description: string; content?: string[] }>;
}

const ERROR_400 = {
  description: "invalid parameter: JSON {error, detail} naming it",
  content: ["application/json"],
};
const ERROR_503 = {
  description: "the model failed to load or verify: JSON {error, detail} with the reason",
  content: ["application/json"],
};

/** The responses of a route that generates: JSON or PNG, cacheable by ETag, 400 and 503. */
const generated = (description: string): RouteSpec["responses"] => ({
  "200": { description, content: ["application/json", "image/png"] },
  "304": { description: "If-None-Match matched the ETag" },
  "400": ERROR_400,
  "503": ERROR_503,
});

export const ROUTES: RouteSpec[] = [
  {
    path: "/sample",
    summary: "Fresh samples from the generator (dropout off)",
    params: SAMPLE_PARAMS,
    responses: generated(
      "JSON {model, seed, n, shape, encoding, range, samples}, or a PNG: a grid of ceil(sqrt(n)) columns for an image model, a scatter plot of the points over the modes for a 2-D model. X-Seed echoes the seed; with an explicit seed the response is immutable and carries an ETag.",
    ),
  },
  {
    path: "/interpolate",
    summary: "A latent walk: samples on the slerp path between the latents of two seeds",
    params: INTERPOLATE_PARAMS,
    responses: generated(
      "JSON {model, from, to, steps, n, shape, encoding, range, samples}, or a PNG strip of `steps` columns. With both seeds given the response is immutable and carries an ETag.",
    ),
  },
  {
    path: "/models",
    summary:
      "Every model the server offers: name, id, status, dataset, shapes, labels, engine, metrics",
    params: {},
    responses: {
      "200": {
        description:
          "{default, models: [{name, status (ready | loading | unavailable), id, dataset, outputShape, latentSize, labels, clusters, engine, memoryBytes, metrics, reason}]}",
        content: ["application/json"],
      },
    },
  },
  {
    path: "/healthz",
    summary: "Liveness: 200 when the default model is loaded and self-tested; each model's status",
    params: {},
    responses: {
      "200": {
        description:
          'the default model is ready: {status: "ok", models: {NAME: ready | loading | unavailable}} (details in /models)',
        content: ["application/json"],
      },
      "503": ERROR_503,
    },
  },
  {
    path: "/model",
    summary:
      "A generator's metadata: dataset, shapes, latent, dropout rates, training settings, metrics, weights hash",
    params: MODEL_PARAMS,
    responses: {
      "200": { description: "metadata", content: ["application/json"] },
      "503": ERROR_503,
    },
  },
  {
    path: "/openapi.json",
    summary: "The OpenAPI 3 document of every route and parameter (this document)",
    params: {},
    responses: { "200": { description: "OpenAPI 3.0 document", content: ["application/json"] } },
  },
  {
    path: "/",
    summary: "A page showing a grid of fresh samples",
    params: PAGE_PARAMS,
    responses: { "200": { description: "HTML page", content: ["text/html"] }, "400": ERROR_400 },
  },
];

/** The OpenAPI 3 document for `ROUTES`. */
export function openApiDocument(): Record<string, unknown> {
  const paths: Record<string, unknown> = {};
  for (const route of ROUTES) {
    paths[route.path] = {
      get: {
        summary: route.summary,
        parameters: Object.values(route.params).map((p) => ({
          name: p.name,
          in: "query",
          required: false,
          description: p.description,
          schema: p.schema,
        })),
        responses: Object.fromEntries(
          Object.entries(route.responses).map(([code, r]) => [code, {
            description: r.description,
            ...(r.content
              ? { content: Object.fromEntries(r.content.map((type) => [type, {}])) }
              : {}),
          }]),
        ),
      },
    };
  }
  return {
    openapi: "3.0.3",
    info: {
      title: "edgegan",
      version: "1",
      description:
        `Samples from a dropout-trained GAN generator. Unknown, repeated or empty query parameters are rejected with 400. Limits: n <= ${SAMPLE_LIMITS.maxSamples}, scale <= ${SAMPLE_LIMITS.maxScale}, query string <= ${SAMPLE_LIMITS.maxQueryLength} characters.`,
    },
    paths,
  };
}
