/**
 * The MNIST full-budget study's cells, its shared recipe, and its report
 * (docs/study-mnist.md, docs/img/study-mnist-steps.svg); run by eval/study_mnist.ts.
 */

/**
 * Flags every cell shares: the default recipe's nets (train/config.ts) at the shipped budget,
 * with the generator's moving average; each cell sets the dropout (and what else it varies).
 */
export const STUDY_RECIPE = ["--steps", "50000", "--ema", "0.999"];

/** A cell's dropout rates, without self-conditioning unless `clusters` is given. */
const dropout = (g: string, d: string, clusters = 0) => [
  "--g-dropout",
  g,
  "--d-dropout",
  d,
  "--self-condition",
  String(clusters),
];

/**
 * The cells: name, the flags that set them apart, and the seeds they need (the cells that
 * decide the default get 3). `g0.5to0-d0.25` is the default recipe.
 */
export const STUDY_CELLS: { name: string; flags: string[]; seeds: number }[] = [
  ...[0, 0.25, 0.5].flatMap((g) =>
    [0, 0.25, 0.5].map((d) => ({
      name: `g${g}-d${d}`,
      flags: dropout(String(g), String(d)),
      seeds: g !== 0.25 && d === 0.25 ? 3 : 1,
    }))
  ),
  // Names are folder names (no ":"): "0.5to0" is the schedule 0.5:0.
  { name: "g0.5to0-d0.25", flags: dropout("0.5:0", "0.25"), seeds: 3 },
  { name: "g0.5to0-d0.5to0", flags: dropout("0.5:0", "0.5:0"), seeds: 1 },
  { name: "g0.5to0-d0.5to0.1cos", flags: dropout("0.5:0", "0.5:0.1:cosine"), seeds: 1 },
  { name: "g0.5to0-d0.25-noema", flags: [...dropout("0.5:0", "0.25"), "--ema", "0"], seeds: 1 },
  { name: "g0.5-d0.5-noema", flags: [...dropout("0.5", "0.5"), "--ema", "0"], seeds: 1 },
  ...[2, 4].map((k) => ({
    name: `dgan${k}`,
    flags: [...dropout("0", "0"), "--d-ensemble", String(k), "--d-ensemble-drop", "0.5"],
    seeds: 1,
  })),
  // Self-conditioning on 30 k-means clusters (Liu et al. 2020): the same question with it on.
  { name: "g0.5to0-d0.25-sc30", flags: dropout("0.5:0", "0.25", 30), seeds: 3 },
  { name: "g0-d0-sc30", flags: dropout("0", "0", 30), seeds: 1 },
  // Both rates ending at 0: dropout early, none once G is conditioned (g0-d0-sc30 beat the default).
  { name: "g0.5to0-d0.25to0-sc30", flags: dropout("0.5:0", "0.25:0", 30), seeds: 3 },
  { name: "g0.5-d0.5-sc30", flags: dropout("0.5", "0.5", 30), seeds: 1 },
];

/** The order runs start in: these cells first, then the rest; seed 1 of all before seed 2. */
export const STUDY_PRIORITY = [
  "g0.5to0-d0.25",
  "g0-d0.25",
  "g0.5-d0.5",
  "g0.5to0-d0.25-noema",
  "g0.5to0-d0.25-sc30",
  "g0-d0-sc30",
  "g0.5to0-d0.25to0-sc30",
];

export interface StudyResult {
  cell: string;
  seed: number;
  flags: string[];
  commit: string;
  /** Metrics of the final model and of each snapshot, by step. */
  byStep: Record<string, Record<string, number>>;
  wallTimeS: number;
}

interface Stat {
  mean: number;
  se: number;
  n: number;
}

function stat(xs: number[]): Stat {
  const n = xs.length;
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  const sd = n > 1 ? Math.sqrt(xs.reduce((s, x) => s + (x - mean) ** 2, 0) / (n - 1)) : 0;
  return { mean, se: sd / Math.sqrt(n), n };
}

const COLUMNS = [
  { key: "frechetDistance", label: "Fréchet distance ↓", digits: 2 },
  { key: "classifierScore", label: "classifier score ↑", digits: 2 },
  { key: "precision", label: "precision ↑", digits: 3 },
  { key: "recall", label: "recall ↑", digits: 3 },
  { key: "density", label: "density", digits: 3 },
  { key: "coverage", label: "coverage ↑", digits: 3 },
] as const;

/** The final step's metrics of each run of a cell, and the mean ± s.e. per metric and step. */
function cellSummary(runs: StudyResult[]) {
  const steps = [...new Set(runs.flatMap((r) => Object.keys(r.byStep).map(Number)))].sort((a, b) =>
    a - b
  );
  const at = (step: number, key: string) =>
    stat(runs.map((r) => r.byStep[String(step)]?.[key]).filter((x) => x !== undefined));
  return { steps, at, final: steps[steps.length - 1] };
}

/** Writes docs/study-mnist.md and its chart from the results. */
export async function writeReport(all: StudyResult[], root: string): Promise<void> {
  if (!all.length) return;
  const byCell = new Map<string, StudyResult[]>();
  for (const r of all) byCell.set(r.cell, [...(byCell.get(r.cell) ?? []), r]);
  const order = STUDY_CELLS.map((c) => c.name).filter((n) => byCell.has(n));
  const fmt = (x: Stat, digits: number) =>
    x.n === 0
      ? "—"
      : x.n > 1
      ? `${x.mean.toFixed(digits)} ± ${x.se.toFixed(digits)}`
      : x.mean.toFixed(digits);
  const rows = order.map((name) => {
    const s = cellSummary(byCell.get(name)!);
    return { name, s, fd: s.at(s.final, "frechetDistance") };
  });
  const best = [...rows].sort((a, b) => a.fd.mean - b.fd.mean)[0];
  // Every step some run was scored at; a run without snapshots shows only its final step.
  const allSteps = [...new Set(rows.flatMap((r) => r.s.steps))].sort((a, b) => a - b);
  const flagsOf = (name: string) => STUDY_CELLS.find((c) => c.name === name)!.flags.join(" ");
  const skipped = STUDY_CELLS.filter((c) => !byCell.has(c.name)).map((c) => c.name);
  const commits = [...new Set(all.map((r) => r.commit.slice(0, 7)))];
  const lines = [
    "# Dropout on MNIST at the shipped budget",
    "",
    `_Generated by \`deno task study --report\` from [study-mnist.json](study-mnist.json): ${all.length} trainings of ${
      Math.max(...all.map((r) => Math.max(...Object.keys(r.byStep).map(Number))))
    } steps, ${
      (all.reduce((s, r) => s + r.wallTimeS, 0) / 60).toFixed(0)
    } compute-minutes, trained at commit ${commits.join(", ")}._`,
    "",
    `**Ranking so far** (Fréchet distance at the last step, lower is better): ${
      [...rows].sort((a, b) => a.fd.mean - b.fd.mean).map((r) =>
        `\`${r.name}\` ${fmt(r.fd, 2)}${r.fd.n > 1 ? "" : " (1 seed)"}`
      ).join(" < ")
    }.`,
    "",
    `**Best so far:** \`${flagsOf(best.name)}\` (cell \`${best.name}\`), Fréchet distance ${
      fmt(best.fd, 2)
    }, classifier score ${fmt(best.s.at(best.s.final, "classifierScore"), 2)}, recall ${
      fmt(best.s.at(best.s.final, "recall"), 3)
    }. Every cell shares \`${STUDY_RECIPE.join(" ")}\` plus its own flags; ` +
    "metrics are on 10,000 samples with the project's classifier (mean ± standard error over seeds where a cell has several).",
    "",
    `| cell | flags | seeds | ${COLUMNS.map((c) => c.label).join(" | ")} |`,
    `|---|---|---|${COLUMNS.map(() => "---").join("|")}|`,
    ...rows.map(({ name, s }) =>
      `| ${name} | \`${flagsOf(name)}\` | ${byCell.get(name)!.length} | ${
        COLUMNS.map((c) => fmt(s.at(s.final, c.key), c.digits)).join(" | ")
      } |`
    ),
    "",
    "## Quality against steps",
    "",
    "Fréchet distance of each cell's (averaged) generator every 10,000 steps: does the early ranking hold?",
    "",
    "![Fréchet distance against steps](img/study-mnist-steps.svg)",
    "",
    `| cell | ${allSteps.map((st) => `${st / 1000}k`).join(" | ")} |`,
    `|---|${allSteps.map(() => "---").join("|")}|`,
    ...rows.map(({ name, s }) =>
      `| ${name} | ${allSteps.map((st) => fmt(s.at(st, "frechetDistance"), 1)).join(" | ")} |`
    ),
    "",
    "## Not yet run",
    "",
    skipped.length
      ? `These cells have no result yet: a run takes ~40 minutes on this 2-core machine, two at a time, so the study runs over several sessions and resumes where it stopped (a run's checkpoint every 2,000 steps): ${
        skipped.map((n) => `\`${n}\``).join(", ")
      }.`
      : "Every cell has run.",
    "",
    "## Published reference",
    "",
    "Dropout-GAN (Mordido, Yang, Meinel 2018, *Dropout-GAN: Learning from a Dynamic Ensemble of Discriminators*) reports that training G against an ensemble whose members' feedback is dropped at random improves sample quality and diversity over a single discriminator; here it is the cells `dgan2` and `dgan4` (2 and 4 discriminators, drop probability 0.5, no dropout layers). For the 2-D mixtures and PacGAN's published numbers see [dropout-study.md](dropout-study.md).",
    "",
    "## Rerun a cell",
    "",
    "```sh",
    `deno task train ${STUDY_RECIPE.join(" ")} ${
      flagsOf(best.name)
    } --seed 1 --snapshot-every 10000 --out models/study/mnist-${best.name}-s1`,
    `deno task eval --model models/study/mnist-${best.name}-s1`,
    "```",
    "",
  ];
  await Deno.mkdir(`${root}/docs/img`, { recursive: true });
  await Deno.writeTextFile(`${root}/docs/study-mnist.md`, lines.join("\n"));
  await Deno.writeTextFile(`${root}/docs/img/study-mnist-steps.svg`, stepsChart(rows));
}

/** A line per cell: mean Fréchet distance against steps, log-scaled y. */
function stepsChart(rows: { name: string; s: ReturnType<typeof cellSummary> }[]): string {
  const w = 640, h = 360, left = 60, right = 170, top = 20, bottom = 40;
  const points = rows.map(({ name, s }) => ({
    name,
    xy: s.steps.map((st) => [st, s.at(st, "frechetDistance").mean] as const),
  }));
  const xs = points.flatMap((p) => p.xy.map(([x]) => x));
  const ys = points.flatMap((p) => p.xy.map(([, y]) => y)).filter((y) => y > 0);
  const x0 = Math.min(...xs), x1 = Math.max(...xs);
  const y0 = Math.log10(Math.min(...ys)), y1 = Math.log10(Math.max(...ys));
  const px = (x: number) => left + (x1 > x0 ? (x - x0) / (x1 - x0) : 0.5) * (w - left - right);
  const py = (y: number) =>
    top + (y1 > y0 ? (y1 - Math.log10(y)) / (y1 - y0) : 0.5) * (h - top - bottom);
  const colors = [
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
  const ticks = [...new Set(xs)].sort((a, b) => a - b);
  const yTicks = [1, 2, 5, 10, 20, 50, 100, 200].filter((t) =>
    Math.log10(t) >= y0 - 0.01 && Math.log10(t) <= y1 + 0.01
  );
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
    })" text-anchor="middle">Fréchet distance (log)</text>`,
    ...points.map((p, i) => {
      const c = colors[i % colors.length];
      const path = p.xy.map(([x, y]) => `${px(x).toFixed(1)},${py(y).toFixed(1)}`).join(" ");
      const dots = p.xy.map(([x, y]) =>
        `<circle cx="${px(x).toFixed(1)}" cy="${py(y).toFixed(1)}" r="3" fill="${c}"/>`
      ).join("");
      return `<polyline fill="none" stroke="${c}" stroke-width="2" points="${path}"/>${dots}` +
        `<text x="${w - right + 8}" y="${top + 14 * i + 10}" fill="${c}">${p.name}</text>`;
    }),
    "</svg>",
  ];
  return parts.join("\n") + "\n";
}
