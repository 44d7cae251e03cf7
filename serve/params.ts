/**
 * The query parameters of every route, defined once: the validation, the error messages, the
 * OpenAPI document and the tests all read these definitions.
 *
 * ```ts
 * const parsed = parseQuery("n=4", SAMPLE_PARAMS); // the query string, without "?"
 * // { ok: true, values: { n: 4, format: "json", scale: 1 } }
 * ```
 */
import { SCATTER_SIZE } from "../image/scatter.ts";

/** Limits on one request's work; also published in /openapi.json. */
export const SAMPLE_LIMITS = {
  /** Most samples in one /sample response. */
  maxSamples: 256,
  /** Most samples along one /interpolate path. */
  maxInterpolationSteps: 64,
  /** Largest PNG upscaling factor. */
  maxScale: 8,
  /** Longest query string accepted, in characters. */
  maxQueryLength: 2048,
} as const;

export const MAX_SEED = 0xffffffff;

/** An OpenAPI 3 schema fragment for one parameter. */
export interface ParamSchema {
  type: "integer" | "string";
  minimum?: number;
  maximum?: number;
  enum?: string[];
  default?: number | string;
}

export interface ParamSpec<T> {
  name: string;
  description: string;
  /** What the parameter accepts, in words, for error messages. */
  accepts: string;
  schema: ParamSchema;
  parse(raw: string): T | undefined;
}

/** An API error body: `error` is a stable code, `detail` a sentence for a person. */
export interface ApiError {
  error: string;
  detail: string;
}

function integer(
  name: string,
  min: number,
  max: number,
  description: string,
  def?: number,
): ParamSpec<number> {
  return {
    name,
    description,
    accepts: `an integer ${min}..${max}`,
    schema: {
      type: "integer",
      minimum: min,
      maximum: max,
      ...(def === undefined ? {} : { default: def }),
    },
    parse(raw) {
      // Plain decimal digits only: no sign, exponent, hex, spaces or fractions.
      if (!/^\d{1,10}$/.test(raw)) return undefined;
      const n = Number(raw);
      return n >= min && n <= max ? n : undefined;
    },
  };
}

function choice<T extends string>(
  name: string,
  choices: readonly T[],
  description: string,
  def: T,
): ParamSpec<T> {
  return {
    name,
    description,
    accepts: `one of ${choices.join(", ")}`,
    schema: { type: "string", enum: [...choices], default: def },
    parse: (raw) => (choices as readonly string[]).includes(raw) ? raw as T : undefined,
  };
}

/** A model's name: a folder under models/, listed by GET /models. */
export const MODEL_NAME = /^[A-Za-z0-9][\w.-]{0,63}$/;

const modelParam: ParamSpec<string> = {
  name: "model",
  description: "which model to use, by name (see GET /models); the server's default when absent",
  accepts: "a model name, see /models",
  schema: { type: "string" },
  parse: (raw) => MODEL_NAME.test(raw) ? raw : undefined,
};

export const MODEL_PARAMS = { model: modelParam };

export const SAMPLE_PARAMS = {
  n: integer("n", 1, SAMPLE_LIMITS.maxSamples, "number of samples", 1),
  seed: integer(
    "seed",
    0,
    MAX_SEED,
    "latent seed; the same model, seed and n give identical bytes, and the first k samples of any n are the samples for n = k. Drawn at random when absent (the response then is not cacheable).",
  ),
  format: choice(
    "format",
    ["json", "png"] as const,
    "response format; without it, `Accept: image/png` selects PNG",
    "json",
  ),
  scale: integer(
    "scale",
    1,
    SAMPLE_LIMITS.maxScale,
    `PNG only: integer upscaling of each pixel (a 2-D model's scatter plot: ${SCATTER_SIZE} × scale pixels)`,
    1,
  ),
  label: integer(
    "label",
    0,
    1023,
    "conditional models only: the class to generate (one of the model's labels, see /model); without it labels are drawn from the seed",
  ),
  model: modelParam,
};

export const INTERPOLATE_PARAMS = {
  from: integer("from", 0, MAX_SEED, "seed of the first latent point; drawn at random when absent"),
  to: integer("to", 0, MAX_SEED, "seed of the last latent point; drawn at random when absent"),
  steps: integer(
    "steps",
    2,
    SAMPLE_LIMITS.maxInterpolationSteps,
    "samples along the path, ends included",
    8,
  ),
  format: SAMPLE_PARAMS.format,
  scale: SAMPLE_PARAMS.scale,
  label: SAMPLE_PARAMS.label,
  model: modelParam,
};

export const PAGE_PARAMS = {
  seed: integer("seed", 0, MAX_SEED, "seed of the grid shown; drawn at random when absent"),
  label: SAMPLE_PARAMS.label,
  model: modelParam,
};

type Specs = Record<string, ParamSpec<unknown>>;
/** The parsed parameters of a route with these specs. */
export type Params<S extends Specs> = {
  [K in keyof S]?: S[K] extends ParamSpec<infer T> ? T : never;
};

export type ParseResult<S extends Specs> = { ok: true; values: Params<S> } | {
  ok: false;
  error: ApiError;
};

/**
 * Validates a query string (the part after "?") against `specs`. Unknown parameters are
 * rejected (a typo such as `?sead=1` would otherwise silently return a random sample), as are
 * repeated or empty ones. Defaults are filled in.
 */
export function parseQuery<S extends Specs>(search: string, specs: S): ParseResult<S> {
  const fail = (error: string, detail: string): ParseResult<S> => ({
    ok: false,
    error: { error, detail },
  });
  // "?" counts, as in URL.search.
  if (search.length + 1 > SAMPLE_LIMITS.maxQueryLength) {
    return fail(
      "query_too_long",
      `the query string has ${
        search.length + 1
      } characters; at most ${SAMPLE_LIMITS.maxQueryLength} are accepted`,
    );
  }
  const values: Record<string, unknown> = {};
  for (const [name, raw] of queryPairs(search)) {
    const spec = Object.hasOwn(specs, name) ? specs[name] : undefined;
    if (!spec) {
      const names = Object.keys(specs);
      const accepted = names.length ? `accepts ${names.join(", ")}` : "takes no parameters";
      return fail(
        "unknown_parameter",
        `unknown query parameter ${JSON.stringify(clip(name))}; this route ${accepted}`,
      );
    }
    if (Object.hasOwn(values, name)) {
      return fail("invalid_parameter", `${name}: given more than once; give it once`);
    }
    const value = spec.parse(raw);
    if (value === undefined) {
      return fail(
        "invalid_parameter",
        `${name}: got ${JSON.stringify(clip(raw))}; accepts ${spec.accepts}`,
      );
    }
    values[name] = value;
  }
  for (const name in specs) {
    const fallback = specs[name].schema.default;
    if (fallback !== undefined && !Object.hasOwn(values, name)) values[name] = fallback;
  }
  return { ok: true, values: values as Params<S> };
}

/**
 * The name/value pairs of a query string, as URLSearchParams gives them. A query with nothing
 * to decode (no "%" or "+", as every request from the page and the docs) is split directly:
 * URLSearchParams and its iterator were a quarter of a cached /sample's JavaScript time
 * (in-process profile, this machine).
 */
export function queryPairs(search: string): Iterable<[string, string]> {
  if (!search) return [];
  if (search.includes("%") || search.includes("+")) return new URLSearchParams(search);
  const out: [string, string][] = [];
  for (const part of search.split("&")) {
    if (!part) continue;
    const eq = part.indexOf("=");
    out.push(eq < 0 ? [part, ""] : [part.slice(0, eq), part.slice(eq + 1)]);
  }
  return out;
}

/** Keeps echoed input short in error messages and logs. */
export function clip(text: string, max = 40): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
