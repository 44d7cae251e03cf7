/**
 * Training plots: D and G losses and D(x), D(G(z)) over steps, from `<run>/metrics.jsonl`, as
 * SVG (text a browser renders; no rasteriser needed), plus the evaluation metrics when the model
 * has them. Written to `<run>/report/`.
 *
 *   deno task report --run models/mnist
 */
import { writeFileAtomic } from "../format/atomic.ts";
import { exitUsage, parseCli } from "../cli/flags.ts";

export interface MetricsRecord {
  step: number;
  dLoss: number;
  gLoss: number;
  dReal: number;
  dFake: number;
}

interface Series {
  name: string;
  color: [number, number, number];
  points: [number, number][];
}

interface Panel {
  title: string;
  series: Series[];
  yMin: number;
  yMax: number;
}

const WIDTH = 720, PANEL_H = 220, MARGIN = { left: 56, right: 16, top: 28, bottom: 30 };

export function parseMetrics(text: string): MetricsRecord[] {
  return text.split("\n").filter((l) => l.trim()).map((l) => JSON.parse(l));
}

function panels(records: MetricsRecord[]): Panel[] {
  const pick = (key: keyof MetricsRecord) =>
    records.map((r) => [r.step, r[key]] as [number, number]);
  const losses = [...records.map((r) => r.dLoss), ...records.map((r) => r.gLoss)];
  return [
    {
      title: "LOSS",
      yMin: 0,
      yMax: Math.ceil(Math.max(...losses) * 2) / 2,
      series: [
        { name: "D LOSS", color: [37, 99, 235], points: pick("dLoss") },
        { name: "G LOSS", color: [220, 38, 38], points: pick("gLoss") },
      ],
    },
    {
      title: "D OUTPUT",
      yMin: 0,
      yMax: 1,
      series: [
        { name: "D(X)", color: [22, 163, 74], points: pick("dReal") },
        { name: "D(G(Z))", color: [234, 88, 12], points: pick("dFake") },
      ],
    },
  ];
}

function niceSteps(max: number): number[] {
  const raw = max / 5;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw)!;
  const ticks = [];
  for (let t = 0; t <= max + 1e-9; t += step) ticks.push(t);
  return ticks;
}

function formatTick(v: number): string {
  if (v >= 1000) return `${+(v / 1000).toFixed(1)}K`;
  return `${+v.toFixed(2)}`;
}

export function chartSvg(records: MetricsRecord[]): string {
  const ps = panels(records);
  const maxStep = records[records.length - 1]?.step ?? 1;
  const plotW = WIDTH - MARGIN.left - MARGIN.right, plotH = PANEL_H - MARGIN.top - MARGIN.bottom;
  const parts: string[] = [];
  ps.forEach((p, i) => {
    const y0 = i * PANEL_H;
    const x = (s: number) => MARGIN.left + (s / maxStep) * plotW;
    const y = (v: number) => y0 + MARGIN.top + (1 - (v - p.yMin) / (p.yMax - p.yMin)) * plotH;
    parts.push(
      `<text x="${MARGIN.left}" y="${
        y0 + 18
      }" font-size="13" font-weight="bold">${p.title.toLowerCase()}</text>`,
    );
    for (const t of niceSteps(p.yMax)) {
      parts.push(
        `<line x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${y(t)}" y2="${
          y(t)
        }" stroke="#e5e7eb"/>`,
      );
      parts.push(
        `<text x="${MARGIN.left - 6}" y="${y(t) + 4}" font-size="11" text-anchor="end">${
          formatTick(t)
        }</text>`,
      );
    }
    for (const t of niceSteps(maxStep)) {
      parts.push(
        `<text x="${x(t)}" y="${y0 + PANEL_H - 10}" font-size="11" text-anchor="middle">${
          formatTick(t)
        }</text>`,
      );
    }
    p.series.forEach((s, k) => {
      const d = s.points.map(([a, b], j) => `${j ? "L" : "M"}${x(a).toFixed(1)},${y(b).toFixed(1)}`)
        .join("");
      parts.push(`<path d="${d}" fill="none" stroke="rgb(${s.color})" stroke-width="1.5"/>`);
      parts.push(
        `<text x="${WIDTH - MARGIN.right - 150 + k * 75}" y="${
          y0 + 18
        }" font-size="12" fill="rgb(${s.color})">${
          s.name.replace("X", "x").replace("Z", "z").replace("LOSS", "loss")
        }</text>`,
      );
    });
  });
  parts.push(
    `<text x="${WIDTH / 2}" y="${
      ps.length * PANEL_H - 0
    }" font-size="11" text-anchor="middle">step</text>`,
  );
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${
    ps.length * PANEL_H + 4
  }" font-family="system-ui, sans-serif" style="background:#fff">\n<rect width="100%" height="100%" fill="#fff"/>\n${
    parts.join("\n")
  }\n</svg>\n`;
}

export async function writeReport(run: string): Promise<string[]> {
  const records = parseMetrics(await Deno.readTextFile(`${run}/metrics.jsonl`));
  if (records.length === 0) throw new Error(`${run}/metrics.jsonl has no records yet`);
  await Deno.mkdir(`${run}/report`, { recursive: true });
  const written = [`${run}/report/training.svg`, `${run}/report/index.md`];
  await writeFileAtomic(written[0], new TextEncoder().encode(chartSvg(records)));
  let metrics = "";
  try {
    const meta =
      JSON.parse(await Deno.readTextFile(`${run}/model.json`)).userDefinedMetadata.edgegan;
    if (meta.metrics) {
      metrics = "\n## Evaluation\n\n| metric | value |\n|---|---|\n" +
        Object.entries(meta.metrics as Record<string, unknown>)
          .filter(([, v]) => typeof v === "number")
          .map(([k, v]) => `| ${k} | ${v} |`).join("\n") +
        "\n";
    }
  } catch {
    // No saved model yet: the report shows training only.
  }
  const samples: string[] = [];
  try {
    for await (const e of Deno.readDir(`${run}/samples`)) {
      if (e.name.endsWith(".png")) samples.push(e.name);
    }
  } catch {
    // no samples folder
  }
  samples.sort();
  const md =
    `# Training report: ${run}\n\n![losses and discriminator outputs](training.svg)\n${metrics}\n## Sample grids, in order\n\n${
      samples.map((s) => `![${s}](../samples/${s})`).join("\n")
    }\n`;
  await writeFileAtomic(written[1], new TextEncoder().encode(md));
  return written;
}

if (import.meta.main) {
  const { run } = parseCli(Deno.args, "deno task report: plot a training run's metrics.jsonl.", {
    run: { type: "string", accepts: "a training output folder, e.g. --run models/mnist" },
  });
  if (run === undefined) {
    exitUsage("--run: required; accepts a training output folder, e.g. --run models/mnist");
  }
  const dir = run.replace(/\/+$/, "");
  try {
    for (const file of await writeReport(dir)) console.log(`wrote ${file}`);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) {
      exitUsage(
        `--run: ${dir} has no metrics.jsonl; accepts a training output folder, e.g. --run models/mnist`,
      );
    }
    console.error(`error: ${(err as Error).message.split("\n")[0]}`);
    Deno.exit(1);
  }
}
