/** What the studies' reports share: mean ± standard error over seeds, and a line chart in SVG. */
import type { StudyResult } from "./study_plans.ts";

export interface Stat {
  mean: number;
  se: number;
  n: number;
}

/** Mean and standard error of `xs` (se 0 for one value). */
export function stat(xs: number[]): Stat {
  const n = xs.length;
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  const sd = n > 1 ? Math.sqrt(xs.reduce((s, x) => s + (x - mean) ** 2, 0) / (n - 1)) : 0;
  return { mean, se: sd / Math.sqrt(n), n };
}

/** `12.30 ± 0.40`, `12.30` for one seed, `—` for none. */
export function formatStat(x: Stat, digits: number): string {
  if (x.n === 0) return "—";
  return x.n > 1 ? `${x.mean.toFixed(digits)} ± ${x.se.toFixed(digits)}` : x.mean.toFixed(digits);
}

/**
 * The items with the most seeds, for picking a best cell: one lucky seed does not outrank three.
 */
export function withMostSeeds<T>(items: T[], seeds: (item: T) => number): T[] {
  const most = Math.max(...items.map(seeds));
  return items.filter((item) => seeds(item) === most);
}

/** A run's scores at its last scored step (its final model). */
export function finalScores(run: StudyResult): Record<string, number> {
  return run.byStep[String(Math.max(...Object.keys(run.byStep).map(Number)))];
}

/** The steps a cell's runs were scored at, and the mean ± s.e. of a metric at a step. */
export function cellSummary(runs: StudyResult[]) {
  const steps = [...new Set(runs.flatMap((r) => Object.keys(r.byStep).map(Number)))].sort((a, b) =>
    a - b
  );
  const at = (step: number, key: string) =>
    stat(runs.map((r) => r.byStep[String(step)]?.[key]).filter((x) => x !== undefined));
  return { steps, at, final: steps[steps.length - 1] };
}

const COLORS = [
  "#1f77b4",
  "#ff7f0e",
  "#2ca02c",
  "#d62728",
  "#9467bd",
  "#8c564b",
  "#e377c2",
  "#7f7f7f",
  "#bcbd22",
  "#17becf",
];

/** One line per series against training steps, as an SVG document (log-scaled y if asked). */
export function lineChart(
  series: { name: string; points: [number, number][] }[],
  options: { yLabel: string; log?: boolean },
): string {
  const w = 640, h = 360, left = 60, right = 170, top = 20, bottom = 40;
  const log = options.log ?? false;
  const ty = (y: number) => log ? Math.log10(y) : y;
  const xs = series.flatMap((p) => p.points.map(([x]) => x));
  const ys = series.flatMap((p) => p.points.map(([, y]) => y)).filter((y) =>
    Number.isFinite(y) && (!log || y > 0)
  );
  const x0 = Math.min(...xs), x1 = Math.max(...xs);
  const y0 = ty(Math.min(...ys)), y1 = ty(Math.max(...ys));
  const px = (x: number) => left + (x1 > x0 ? (x - x0) / (x1 - x0) : 0.5) * (w - left - right);
  const py = (y: number) => top + (y1 > y0 ? (y1 - ty(y)) / (y1 - y0) : 0.5) * (h - top - bottom);
  const steps = [...new Set(xs)].sort((a, b) => a - b);
  // At most ~10 labels (the last one always): 20 snapshots' labels would overlap.
  const every = Math.ceil(steps.length / 10);
  const ticks = steps.filter((_, i) => (steps.length - 1 - i) % every === 0);
  const yTicks = log
    ? [1, 2, 5, 10, 20, 50, 100, 200].filter((t) =>
      Math.log10(t) >= y0 - 0.01 && Math.log10(t) <= y1 + 0.01
    )
    : Array.from({ length: 5 }, (_, i) => Number((y0 + ((y1 - y0) * i) / 4).toPrecision(3)));
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" font-family="sans-serif" font-size="11">`,
    `<rect width="${w}" height="${h}" fill="white"/>`,
    ...ticks.map((t) =>
      `<text x="${px(t)}" y="${h - bottom + 16}" text-anchor="middle">${t / 1000}k</text>`
    ),
    ...yTicks.map((t) =>
      `<line x1="${left}" x2="${w - right}" y1="${py(t)}" y2="${py(t)}" stroke="#ddd"/><text x="${
        left - 6
      }" y="${py(t) + 4}" text-anchor="end">${t}</text>`
    ),
    `<text x="${(left + w - right) / 2}" y="${h - 6}" text-anchor="middle">training steps</text>`,
    `<text x="14" y="${(top + h - bottom) / 2}" transform="rotate(-90 14 ${
      (top + h - bottom) / 2
    })" text-anchor="middle">${options.yLabel}</text>`,
    ...series.map((p, i) => {
      const c = COLORS[i % COLORS.length];
      const path = p.points.map(([x, y]) => `${px(x).toFixed(1)},${py(y).toFixed(1)}`).join(" ");
      const dots = p.points.map(([x, y]) =>
        `<circle cx="${px(x).toFixed(1)}" cy="${py(y).toFixed(1)}" r="3" fill="${c}"/>`
      ).join("");
      return `<polyline fill="none" stroke="${c}" stroke-width="2" points="${path}"/>${dots}` +
        `<text x="${w - right + 8}" y="${top + 14 * i + 10}" fill="${c}">${p.name}</text>`;
    }),
    "</svg>",
  ];
  return parts.join("\n") + "\n";
}
