/**
 * The page at GET /: a server-rendered grid of fresh samples (no JavaScript needed).
 */
import type { Sampler } from "./sampler.ts";

const GRID_N = 16;
const GRID_SCALE = 4;

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

export function renderPage(sampler: Sampler | undefined, seed: number, failure?: string): string {
  const meta = sampler?.metadata;
  const image = sampler?.isImage
    ? `<img src="/sample?format=png&amp;n=${GRID_N}&amp;scale=${GRID_SCALE}&amp;seed=${seed}" width="${
      4 * 28 * GRID_SCALE
    }" height="${4 * 28 * GRID_SCALE}" alt="${GRID_N} generated samples for seed ${seed}">`
    : `<p>${
      escapeHtml(failure ?? "This model does not output images; see /sample?format=json.")
    }</p>`;
  const card = meta
    ? `<dl>
  <dt>model</dt><dd>${escapeHtml(sampler.id)}</dd>
  <dt>dataset</dt><dd>${escapeHtml(meta.dataset)}</dd>
  <dt>training steps</dt><dd>${meta.steps}</dd>
  <dt>dropout (G / D)</dt><dd>${meta.dropout.generator} / ${meta.dropout.discriminator}</dd>
</dl>`
    : "";
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>edgegan samples</title>
<style>
body { font: 16px/1.5 system-ui, sans-serif; max-width: 40rem; margin: 2rem auto; padding: 0 1rem; color: #222; }
img { image-rendering: pixelated; max-width: 100%; height: auto; background: #000; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 0 1rem; }
dt { color: #666; }
</style>
</head>
<body>
<h1>edgegan</h1>
<p>Fresh samples from a dropout-trained GAN generator, seed <strong>${seed}</strong>.</p>
${image}
<p><a href="/">New samples</a> · <a href="/?seed=${seed}">Permalink</a> · <a href="/openapi.json">API</a></p>
${card}
</body>
</html>
`;
}
