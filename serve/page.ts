/**
 * The page at GET /: server-rendered HTML with no scripts. A grid of fresh samples, its seed, a
 * "new samples" link, a seed box, a permalink, a latent walk and the model card.
 */
import type { Sampler } from "./sampler.ts";
import { SCATTER_SIZE } from "../image/scatter.ts";

const GRID_N = 16;
const GRID_SCALE = 4;
const WALK_STEPS = 8;
const WALK_SCALE = 2;
/** Points in a 2-D model's scatter plot (the most one request gives). */
const SCATTER_N = 256;

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

function formatMetric(value: unknown): string {
  if (typeof value === "number") {
    return Number.isInteger(value) ? String(value) : value.toPrecision(4);
  }
  return escapeHtml(JSON.stringify(value));
}

function modelCard(sampler: Sampler): string {
  const meta = sampler.metadata;
  const rows: [string, string][] = [
    ["model", escapeHtml(sampler.id)],
    ["dataset", escapeHtml(meta.dataset)],
    ["training steps", String(meta.steps)],
    [
      "dropout (G / D)",
      escapeHtml(`${meta.dropout.generator} / ${meta.dropout.discriminator}`),
    ],
    ...(meta.ema
      ? [["weights", `moving average of G (decay ${meta.ema.decay})`] as [string, string]]
      : []),
    ...(meta.labels
      ? [
        ["conditional on", `digits ${meta.labels[0]}–${meta.labels[meta.labels.length - 1]}`] as [
          string,
          string,
        ],
      ]
      : []),
    ...(meta.clusters
      ? [
        [
          "self-conditioned on",
          `${meta.clusters.count} unlabelled clusters of the training images, drawn by the seed`,
        ] as [string, string],
      ]
      : []),
    ["training time", `${Math.round(meta.wallTimeS / 60)} min on ${escapeHtml(meta.backend)}`],
  ];
  for (const [name, value] of Object.entries(meta.metrics ?? {})) {
    if (typeof value === "number" || typeof value === "string") {
      rows.push([escapeHtml(name), formatMetric(value)]);
    }
  }
  return `<dl>\n${rows.map(([k, v]) => `  <dt>${k}</dt><dd>${v}</dd>`).join("\n")}\n</dl>`;
}

export function renderPage(
  sampler: Sampler | undefined,
  view: {
    seed: number;
    label?: number;
    /** The ?model= given, carried through every link and image. */
    model?: string;
    /** The image models to pick from (empty: no picker). */
    models?: string[];
    /** The model shown. */
    current?: string;
  },
  failure?: string,
): string {
  const { seed, label } = view;
  // Digits to pick from (a self-conditioned model's clusters are not offered).
  const classes = sampler?.metadata.labels?.length ?? 0;
  const withModel = view.model === undefined ? "" : `&amp;model=${escapeHtml(view.model)}`;
  // Query suffix carrying the chosen model and label through every link and image.
  const withLabel = `${label === undefined ? "" : `&amp;label=${label}`}${withModel}`;
  const modelPicker = view.models && view.models.length > 1
    ? `<nav aria-label="model">
  <span>Model:</span>
  ${
      view.models.map((name) =>
        `<a class="model" href="/?seed=${seed}&amp;model=${escapeHtml(name)}"${
          name === view.current ? ' aria-current="page"' : ""
        }>${escapeHtml(name)}</a>`
      ).join("\n  ")
    }
</nav>`
    : "";
  const picker = classes
    ? `<nav aria-label="digit">
  <span>Digit:</span>
  <a href="/?seed=${seed}${withModel}"${label === undefined ? ' aria-current="page"' : ""}>any</a>
  ${
      Array.from({ length: classes }, (_, d) =>
        `<a class="digit" href="/?seed=${seed}&amp;label=${d}${withModel}"${
          label === d ? ' aria-current="page"' : ""
        }>${d}</a>`).join("\n  ")
    }
</nav>`
    : "";
  const scatter = sampler?.isPoints
    ? `<figure>
  <img id="grid" src="/sample?format=png&amp;n=${SCATTER_N}&amp;seed=${seed}${withModel}" width="${SCATTER_SIZE}" height="${SCATTER_SIZE}" alt="${SCATTER_N} generated points for seed ${seed} over the mixture's modes">
  <figcaption>Seed <strong id="seed">${seed}</strong>: ${SCATTER_N} points (blue) over the ${
      escapeHtml(sampler.metadata.dataset)
    } modes (red) (<a href="/sample?n=${SCATTER_N}&amp;seed=${seed}${withModel}">JSON</a>)</figcaption>
</figure>
<nav>
  <a id="new" class="button" href="/${
      withModel ? `?${withModel.replace(/^&amp;/, "")}` : ""
    }">New samples</a>
  <a id="permalink" href="/?seed=${seed}${withModel}">Permalink</a>
</nav>`
    : undefined;
  const images = scatter ?? (sampler?.isImage
    ? `<figure>
  <img id="grid" src="/sample?format=png&amp;n=${GRID_N}&amp;scale=${GRID_SCALE}&amp;seed=${seed}${withLabel}" width="${
      4 * 28 * GRID_SCALE
    }" height="${4 * 28 * GRID_SCALE}" alt="${GRID_N} generated digits for seed ${seed}">
  <figcaption>Seed <strong id="seed">${seed}</strong>: ${GRID_N} samples (<a href="/sample?n=${GRID_N}&amp;seed=${seed}${withLabel}">JSON</a>)</figcaption>
</figure>
${picker}
<nav>
  <a id="new" class="button" href="/${
      withLabel ? `?${withLabel.replace(/^&amp;/, "")}` : ""
    }">New samples</a>
  <a id="permalink" href="/?seed=${seed}${withLabel}">Permalink</a>
</nav>
<form action="/" method="get">
  <label for="seed-input">Seed</label>
  <input id="seed-input" name="seed" type="number" min="0" max="4294967295" step="1" value="${seed}" required>
  ${label === undefined ? "" : `<input type="hidden" name="label" value="${label}">`}
  ${
      view.model === undefined
        ? ""
        : `<input type="hidden" name="model" value="${escapeHtml(view.model)}">`
    }
  <button type="submit">Show</button>
</form>
<h2>Latent walk</h2>
<figure>
  <img id="walk" src="/interpolate?format=png&amp;from=${seed}&amp;to=${
      (seed + 1) >>> 0
    }&amp;steps=${WALK_STEPS}&amp;scale=${WALK_SCALE}${withLabel}" width="${
      WALK_STEPS * 28 * WALK_SCALE
    }" height="${28 * WALK_SCALE}" alt="a walk through latent space from seed ${seed} to seed ${
      (seed + 1) >>> 0
    }">
  <figcaption>From seed ${seed} to seed ${
      (seed + 1) >>> 0
    } in ${WALK_STEPS} steps (<code>GET /interpolate</code>)</figcaption>
</figure>`
    : `<p role="alert">${
      escapeHtml(failure ?? "This model does not output images; see /sample?format=json.")
    }</p>`);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>edgegan: generated samples</title>
<link rel="icon" href="data:,">
<style>
body { font: 16px/1.5 system-ui, sans-serif; max-width: 42rem; margin: 2rem auto; padding: 0 1rem; color: #1d1d1f; }
img { image-rendering: pixelated; max-width: 100%; height: auto; background: #000; display: block; }
figure { margin: 1rem 0; }
nav a.digit, nav a[aria-current] { min-width: 1.5rem; text-align: center; }
nav a[aria-current] { font-weight: bold; text-decoration: none; border-bottom: 2px solid #1d4ed8; }
nav, form { display: flex; gap: 1rem; align-items: center; margin: 1rem 0; flex-wrap: wrap; }
.button, button { background: #1d4ed8; color: #fff; border: 0; border-radius: 6px; padding: .5rem 1rem; font: inherit; text-decoration: none; cursor: pointer; }
input { font: inherit; padding: .4rem; width: 11rem; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; }
dt { color: #555; }
dd { margin: 0; }
</style>
</head>
<body>
<main>
<h1>edgegan</h1>
<p>Fresh samples from a GAN generator trained with dropout, generated on request with dropout off.</p>
${modelPicker}
${images}
<h2>Model</h2>
${sampler ? modelCard(sampler) : `<p>${escapeHtml(failure ?? "no model")}</p>`}
<p><a href="/openapi.json">API (OpenAPI)</a> · <a href="/model">metadata</a> · <a href="/healthz">health</a></p>
</main>
</body>
</html>
`;
}
