/**
 * The 2-D dropout study (PacGAN's mixtures, grid25 and ring8) at a real budget: its cells, its
 * shared recipe, and its report (docs/dropout-study.md, docs/img/dropout-study-DATASET.svg), written
 * from docs/study-grid25.json and docs/study-ring8.json; run by eval/study.ts.
 */
import type { StudyCell, StudyResult } from "./study_plans.ts";
import { answerSection } from "./study_answer.ts";
import {
  cellSummary,
  finalScores,
  formatStat,
  lineChart,
  type Stat,
  withMostSeeds,
} from "./study_common.ts";

/**
 * Steps per run of the full grid. Not converged: the learning rate reaches 0 here, and on a
 * 200,000-step schedule the plain GAN's high-quality share keeps rising (see LONG_STEPS_2D).
 */
export const STEPS_2D = 50_000;
export const SNAPSHOT_EVERY_2D = 5_000;

/** Flags every run of a 2-D study shares: the `2d` recipe (recipes/2d.json) at the budget. */
export function recipe2d(dataset: string, steps = STEPS_2D): string[] {
  return ["--recipe", "2d", "--dataset", dataset, "--steps", String(steps)];
}

/**
 * The converged budget (`deno task study --dataset grid25-200k,ring8-200k`): 4x as long, so the
 * learning rate decays over 200,000 steps. On grid25 the plain GAN's high-quality share rose to
 * 89% at 100,000 steps and stayed at 94% from 160,000 on, against 87% at the end of a
 * 50,000-step run.
 */
export const LONG_STEPS_2D = 200_000;
export const LONG_SNAPSHOT_EVERY_2D = 10_000;

const dropout = (g: string, d: string) => ["--g-dropout", g, "--d-dropout", d];

/**
 * The cells the issue asks for, 3 seeds each: G x D dropout, the schedules, EMA off, PacGAN,
 * Dropout-GAN. The converged study (200,000 steps) runs these.
 */
export const LONG_CELLS_2D: StudyCell[] = [
  ...[0, 0.25, 0.5].flatMap((g) =>
    [0, 0.25, 0.5].map((d) => ({
      name: `g${g}-d${d}`,
      flags: dropout(String(g), String(d)),
      seeds: 3,
    }))
  ),
  { name: "g0.5to0-d0.5to0", flags: dropout("0.5:0", "0.5:0"), seeds: 3 },
  { name: "g0-d0.5to0", flags: dropout("0", "0.5:0"), seeds: 3 },
  { name: "g0-d0-noema", flags: [...dropout("0", "0"), "--ema", "0"], seeds: 3 },
  ...[2, 4].map((k) => ({
    name: `g0-d0-pack${k}`,
    flags: [...dropout("0", "0"), "--pack", String(k)],
    seeds: 3,
  })),
  ...[2, 4].map((k) => ({
    name: `dgan${k}`,
    flags: [...dropout("0", "0"), "--d-ensemble", String(k), "--d-ensemble-drop", "0.5"],
    seeds: 3,
  })),
];

/** The 50,000-step study: the same cells, and probes around the best recipe. */
export const STUDY_2D_CELLS: StudyCell[] = [
  ...LONG_CELLS_2D,
  // The best dropout cell with one thing more: a wider latent (probes: 8 gave 81.9% high quality
  // at seed 1, 32 lost a mode), top-k G updates (Sinha et al. 2020), or PacGAN's packing.
  { name: "g0-d0.25-latent8", flags: [...dropout("0", "0.25"), "--latent", "8"], seeds: 3 },
  { name: "g0-d0.25-latent32", flags: [...dropout("0", "0.25"), "--latent", "32"], seeds: 1 },
  { name: "g0-d0.25-topk", flags: [...dropout("0", "0.25"), "--g-top-k", "1:0.5"], seeds: 1 },
  { name: "g0-d0.25-pack2", flags: [...dropout("0", "0.25"), "--pack", "2"], seeds: 1 },
  // Self-conditioning (Liu et al. 2020), as on MNIST: G and D see the k-means cluster of the
  // point, 50 clusters (k-means with as many clusters as modes can straddle two modes).
  { name: "g0-d0.25-sc50", flags: [...dropout("0", "0.25"), "--self-condition", "50"], seeds: 3 },
  { name: "g0-d0-sc50", flags: [...dropout("0", "0"), "--self-condition", "50"], seeds: 3 },
  // 100 clusters: 4 per mode, so one cluster drawn off its mode costs ~1% and no mode (seed 2 of
  // g0-d0.25-sc50 drew its one cluster on the (-4, 4) corner 0.17 off, losing the mode).
  {
    name: "g0-d0.25-sc100",
    flags: [...dropout("0", "0.25"), "--self-condition", "100"],
    seeds: 3,
  },
  // The dropout question once G is conditioned: the same without D dropout.
  { name: "g0-d0-sc100", flags: [...dropout("0", "0"), "--self-condition", "100"], seeds: 3 },
];

/**
 * The cells that decide the answer start first: the plain GAN, D dropout, PacGAN4 (seed 1 of
 * every cell still precedes any seed 2; `--only` and `--seeds` pick the deciding cells' seeds).
 */
export const LONG_PRIORITY_2D = ["g0-d0", "g0-d0.25", "g0-d0.5", "g0-d0-pack4"];

/** The baseline first, then the cells most likely to meet the bar (coverage early, sharp late). */
export const STUDY_2D_PRIORITY = [
  "g0-d0",
  "g0-d0.25-sc50",
  "g0-d0.5to0",
  "g0-d0.25",
  "g0-d0-pack4",
  "g0.5to0-d0.5to0",
  "g0-d0.5",
  "g0.5-d0.5",
  "g0-d0-pack2",
];

const COLUMNS = [
  { key: "modes", label: "modes ↑", digits: 1, scale: 1 },
  { key: "highQuality", label: "high-quality % ↑", digits: 1, scale: 100 },
  { key: "reverseKl", label: "reverse KL ↓", digits: 3, scale: 1 },
  // Not part of the protocol or the ranking: how far high-quality points sit from their mode, per
  // axis in stds (the data: 0.98; a mode drawn as a point: 0).
  { key: "spread", label: "spread (std)", digits: 2, scale: 1 },
] as const;

/** Our bar on grid25 (means over seeds): every mode, >= 95% high quality, reverse KL <= 0.04. */
export function meetsBar(modes: number, highQualityPct: number, reverseKl: number): boolean {
  return modes >= 25 && highQualityPct >= 95 && reverseKl <= 0.04;
}

const PACGAN_REFERENCE = [
  "### Published reference: PacGAN, 2D-grid",
  "",
  "Lin, Khetan, Fanti, Oh. *PacGAN: The power of two samples in generative adversarial networks.*",
  "NeurIPS 2018, Table 1 (2,500 samples, 25-mode grid, their nets and budget, mean ± s.e. over 10 trials):",
  "",
  "| method | modes covered | high-quality % | reverse KL |",
  "|---|---|---|---|",
  "| GAN | 17.3 ± 0.8 | 94.8 ± 0.7 | 0.70 ± 0.07 |",
  "| PacGAN2 | 23.8 ± 0.7 | 91.3 ± 0.8 | 0.13 ± 0.04 |",
  "| PacGAN3 | 24.6 ± 0.4 | 94.2 ± 0.4 | 0.06 ± 0.02 |",
  "| PacGAN4 | 24.8 ± 0.2 | 93.6 ± 0.6 | 0.04 ± 0.01 |",
  "",
  "Their recipe differs from ours: G with batch normalisation and 4 x 400 ReLU units, D with maxout,",
  "Adam 1e-4, batch 100, 400 epochs of 100,000 samples (400,000 steps).",
  "",
];

interface Row {
  name: string;
  runs: StudyResult[];
  s: ReturnType<typeof cellSummary>;
  final: Record<string, Stat>;
}

function rowsOf(results: StudyResult[]): Row[] {
  const byCell = new Map<string, StudyResult[]>();
  for (const r of results) byCell.set(r.cell, [...(byCell.get(r.cell) ?? []), r]);
  return STUDY_2D_CELLS.map((c) => c.name).filter((n) => byCell.has(n)).map((name) => {
    const runs = byCell.get(name)!;
    const s = cellSummary(runs);
    const final = Object.fromEntries(
      COLUMNS.map((c) => {
        const x = s.at(s.final, c.key);
        return [c.key, { ...x, mean: x.mean * c.scale, se: x.se * c.scale }];
      }),
    );
    return { name, runs, s, final };
  });
}

/** The best cell among those with the most seeds. */
function bestOf(rows: Row[]): Row {
  return ranked(withMostSeeds(rows, (r) => r.runs.length))[0];
}

/** Best first: most modes, then most high-quality samples, then lowest reverse KL. */
function ranked(rows: Row[]): Row[] {
  return [...rows].sort((a, b) =>
    b.final.modes.mean - a.final.modes.mean ||
    b.final.highQuality.mean - a.final.highQuality.mean ||
    a.final.reverseKl.mean - b.final.reverseKl.mean
  );
}

/**
 * The answer so far, in one paragraph of numbers: the plain GAN, the best cell, and each
 * family of cells (D dropout alone, G dropout alone, schedules, packing, Dropout-GAN,
 * self-conditioning, the probes on the best D-dropout cell).
 */
function answer(rows: Row[], numbers: (r: Row) => string): string {
  const byName = new Map(rows.map((r) => [r.name, r]));
  const plain = byName.get("g0-d0");
  const best = bestOf(rows);
  const family = (label: string, names: string[]) => {
    const present = names.filter((n) => byName.has(n) && n !== "g0-d0");
    return present.length
      ? `${label}: ${present.map((n) => `\`${n}\` ${numbers(byName.get(n)!)}`).join("; ")}.`
      : "";
  };
  return [
    "**Answer so far:**",
    plain ? `the plain GAN (\`g0-d0\`) ends at ${numbers(plain)};` : "",
    `the best cell is \`${best.name}\` (${numbers(best)}).`,
    family("D dropout alone", ["g0-d0.25", "g0-d0.5", "g0-d0.5to0"]),
    family("G dropout alone", ["g0.25-d0", "g0.5-d0"]),
    family("Dropout in both nets", [
      "g0.25-d0.25",
      "g0.25-d0.5",
      "g0.5-d0.25",
      "g0.5-d0.5",
      "g0.5to0-d0.5to0",
    ]),
    family("Packing", ["g0-d0-pack2", "g0-d0-pack4"]),
    family("Dropout-GAN", ["dgan2", "dgan4"]),
    family("Without the weight average", ["g0-d0-noema"]),
    family("Self-conditioned on 50 or 100 k-means clusters", [
      "g0-d0-sc50",
      "g0-d0.25-sc50",
      "g0-d0-sc100",
      "g0-d0.25-sc100",
    ]),
    family("The best D-dropout cell with one thing more", [
      "g0-d0.25-latent8",
      "g0-d0.25-latent32",
      "g0-d0.25-topk",
      "g0-d0.25-pack2",
    ]),
  ].filter(Boolean).join(" ");
}

/**
 * The saved weight average against G's own weights at each run's final step, for the runs
 * `deno task eval` scored both ways (it does where the run's final checkpoint is beside it).
 */
function averageAgainstRaw(rows: Row[]): string[] {
  const pairs = rows.flatMap((row) =>
    row.runs.map((run) => ({ cell: row.name, seed: run.seed, final: finalScores(run) }))
  ).filter((p) => p.final.rawHighQuality !== undefined);
  if (!pairs.length) return [];
  // Half a point of high quality is within the protocol's noise (2,500 samples).
  const gap = (p: (typeof pairs)[number]) => p.final.highQuality - p.final.rawHighQuality;
  const count = (pick: (p: (typeof pairs)[number]) => boolean) => pairs.filter(pick).length;
  const worst = [...pairs].sort((a, b) => gap(a) - gap(b))[0];
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  return [
    "",
    `**The weight average against G's own weights** (the final step of ${pairs.length} run${
      pairs.length > 1 ? "s" : ""
    } scored both ways): the average has more high-quality samples in ${
      count((p) => gap(p) >= 0.005)
    }, fewer in ${count((p) => gap(p) <= -0.005)} and as many (within half a point) in ${
      count((p) => Math.abs(gap(p)) < 0.005)
    }; more modes in ${count((p) => p.final.modes > p.final.rawModes)}, fewer in ${
      count((p) => p.final.modes < p.final.rawModes)
    }${
      gap(worst) <= -0.005
        ? `; its largest loss: \`${worst.cell}\` seed ${worst.seed}, ${
          pct(worst.final.highQuality)
        } and ${worst.final.modes} modes against G's ${
          pct(worst.final.rawHighQuality)
        } and ${worst.final.rawModes}`
        : ""
    }.`,
  ];
}

/**
 * A dataset's table of final scores, its best cell, its answer, the bar (grid25), its
 * high-quality curves as a chart (img/dropout-study-SLUG.svg) and (unless `stepsTable` is false)
 * as a table.
 */
function datasetSection(
  dataset: string,
  results: StudyResult[],
  { heading = `## ${dataset}`, slug = dataset, stepsTable = true } = {},
): string[] {
  const rows = rowsOf(results);
  if (!rows.length) return [];
  const flagsOf = (name: string) => STUDY_2D_CELLS.find((c) => c.name === name)!.flags.join(" ");
  const steps = [...new Set(rows.flatMap((r) => r.s.steps))].sort((a, b) => a - b);
  const numbers = (r: Row) =>
    `${r.final.modes.mean.toFixed(1)} modes, ${
      r.final.highQuality.mean.toFixed(1)
    }% high quality, reverse KL ${r.final.reverseKl.mean.toFixed(3)}`;
  const best = bestOf(rows);
  const lines = [
    heading,
    "",
    `| cell | flags | seeds | ${COLUMNS.map((c) => c.label).join(" | ")} |`,
    `|---|---|---|${COLUMNS.map(() => "---").join("|")}|`,
    ...rows.map((r) =>
      `| ${r.name} | \`${flagsOf(r.name)}\` | ${r.runs.length} | ${
        COLUMNS.map((c) => formatStat(r.final[c.key], c.digits)).join(" | ")
      } |`
    ),
    "",
    `**Best:** \`${best.name}\` (${numbers(best)}; ${best.runs.length} seed${
      best.runs.length > 1 ? "s" : ""
    }).`,
    "",
    answer(rows, numbers),
  ];
  if (dataset === "grid25") {
    const passing = rows.filter((r) =>
      r.runs.length >= 3 &&
      meetsBar(r.final.modes.mean, r.final.highQuality.mean, r.final.reverseKl.mean)
    );
    lines.push(
      "",
      passing.length
        ? `**Bar met** (25 modes, ≥ 95% high quality, reverse KL ≤ 0.04; means over 3 seeds) by ${
          passing.map((r) => `\`${r.name}\``).join(", ")
        }.`
        : "**Bar not met yet** (25 modes, ≥ 95% high quality, reverse KL ≤ 0.04, as the mean over 3 seeds).",
    );
  }
  lines.push(...averageAgainstRaw(rows));
  if (stepsTable) {
    lines.push(
      "",
      `High-quality samples (%) against steps, mean over seeds ([chart](img/dropout-study-${slug}.svg)):`,
      "",
      `| cell | ${steps.map((st) => `${st / 1000}k`).join(" | ")} |`,
      `|---|${steps.map(() => "---").join("|")}|`,
      ...rows.map((r) =>
        `| ${r.name} | ${
          steps.map((st) => {
            const x = r.s.at(st, "highQuality");
            return x.n ? (100 * x.mean).toFixed(1) : "—";
          }).join(" | ")
        } |`
      ),
    );
  }
  lines.push(
    "",
    `![High-quality % against steps: ${
      heading.replace(/^#+ /, "")
    }](img/dropout-study-${slug}.svg)`,
    "",
  );
  return lines;
}

/**
 * Whether 50,000 steps is enough: each long run's high-quality % and modes every 20,000 steps
 * against the same cell at the study's budget (final values, mean over its seeds).
 */
function budgetSection(
  datasets: string[],
  long: StudyResult[][],
  short: StudyResult[][],
): string[] {
  if (!long.some((r) => r.length)) return [];
  const columns = Array.from({ length: LONG_STEPS_2D / 20_000 }, (_, i) => (i + 1) * 20_000);
  const lines = [
    "## At 200,000 steps: the converged budget",
    "",
    `The same cells trained for ${
      LONG_STEPS_2D.toLocaleString("en-US")
    } steps (the same recipe, so the learning rate decays to 0 over the longer run; \`deno task study --dataset grid25-200k,ring8-200k\`, results in study-DATASET-200k.json), against the same cell at the study's budget (final values, mean over its seeds). High-quality % / modes (mean over seeds):`,
    "",
    `| dataset | cell | seeds | ${columns.map((st) => `${st / 1000}k`).join(" | ")} | the ${
      STEPS_2D / 1000
    }k study's final | reverse KL at ${LONG_STEPS_2D / 1000}k / ${STEPS_2D / 1000}k |`,
    `|---|---|---|${columns.map(() => "---").join("|")}|---|---|`,
  ];
  // Each long cell with its runs, and the same cell's runs at the study's budget.
  const rows = datasets.flatMap((dataset, i) =>
    LONG_CELLS_2D.map((cell) => ({
      dataset,
      name: cell.name,
      runs: long[i].filter((r) => r.cell === cell.name),
      budget: short[i].filter((r) => r.cell === cell.name),
    })).filter((row) => row.runs.length)
  );
  for (const { dataset, name, runs, budget } of rows) {
    const s = cellSummary(runs);
    const b = budget.length ? cellSummary(budget) : undefined;
    const cellAt = (st: number) => {
      const hq = s.at(st, "highQuality"), modes = s.at(st, "modes");
      return hq.n ? `${(100 * hq.mean).toFixed(1)} / ${modes.mean.toFixed(1)}` : "—";
    };
    const atBudget = b
      ? `${(100 * b.at(b.final, "highQuality").mean).toFixed(1)} / ${
        b.at(b.final, "modes").mean.toFixed(1)
      } (${budget.length} seed${budget.length > 1 ? "s" : ""})`
      : "—";
    const kl = `${s.at(s.final, "reverseKl").mean.toFixed(3)} / ${
      b ? b.at(b.final, "reverseKl").mean.toFixed(3) : "—"
    }`;
    lines.push(
      `| ${dataset} | ${name} | ${runs.length} | ${
        columns.map(cellAt).join(" | ")
      } | ${atBudget} | ${kl} |`,
    );
  }
  lines.push("");
  return lines;
}

async function readResults(root: string, dataset: string): Promise<StudyResult[]> {
  return await Deno.readTextFile(`${root}/docs/study-${dataset}.json`).then(
    (t) => JSON.parse(t).results as StudyResult[],
    () => [],
  );
}

/** Writes docs/dropout-study.md and its charts from both 2-D studies' results (if any). */
export async function writeReport2d(root: string): Promise<void> {
  const datasets = ["grid25", "ring8"];
  const all = await Promise.all(datasets.map((d) => readResults(root, d)));
  if (!all.some((r) => r.length)) return;
  const mnist = await readResults(root, "mnist");
  const long = await Promise.all(datasets.map((d) => readResults(root, `${d}-200k`)));
  const runs = all.flat();
  const commits = [...new Set(runs.map((r) => r.commit.slice(0, 7)))];
  const minutes = runs.reduce((s, r) => s + r.wallTimeS, 0) / 60;
  const lines = [
    "# Does dropout help a GAN? The study at a real budget",
    "",
    ...answerSection({ mnist, grid25: all[0], ring8: all[1] }, {
      label: `${LONG_STEPS_2D.toLocaleString("en-US")} steps`,
      grid25: long[0],
      ring8: long[1],
    }),
    "## The 2-D mixtures",
    "",
    `_Generated by \`deno task study --report --dataset grid25,ring8\` from [study-grid25.json](study-grid25.json) and [study-ring8.json](study-ring8.json): ${runs.length} training${
      runs.length === 1 ? "" : "s"
    } of ${STEPS_2D} steps, ${minutes.toFixed(0)} compute-minutes, trained at commit ${
      commits.join(", ")
    }._`,
    "",
    `Every run shares \`${
      recipe2d("DATASET").join(" ")
    }\` (G 2-256-256-2, D 2-256-256-1, a 2-D latent, Adam 1e-3 decayed linearly to 0, batch 64, the generator's moving average 0.999) plus its cell's flags, and is scored with the PacGAN protocol on 2,500 samples: a sample is high quality within 3 standard deviations of its nearest mode; a mode is covered by at least one high-quality sample; reverse KL of the nearest-mode histogram against the uniform mixture. Values are mean ± standard error over seeds.`,
    "",
  ];
  // Each cell's high-quality % against steps (mean over seeds), as docs/img/dropout-study-SLUG.svg.
  const writeChart = async (slug: string, results: StudyResult[]) => {
    const rows = rowsOf(results);
    if (!rows.length) return;
    await Deno.mkdir(`${root}/docs/img`, { recursive: true });
    await Deno.writeTextFile(
      `${root}/docs/img/dropout-study-${slug}.svg`,
      lineChart(
        rows.map((r) => ({
          name: r.name,
          points: r.s.steps.map((st) =>
            [st, 100 * r.s.at(st, "highQuality").mean] as [number, number]
          ),
        })),
        { yLabel: "high-quality samples (%)" },
      ),
    );
  };
  for (const [i, dataset] of datasets.entries()) {
    lines.push(...datasetSection(dataset, all[i]));
    await writeChart(dataset, all[i]);
  }
  lines.push(...budgetSection(datasets, long, all));
  for (const [i, dataset] of datasets.entries()) {
    const slug = `${dataset}-200k`;
    lines.push(...datasetSection(dataset, long[i], {
      heading: `### ${dataset} at ${LONG_STEPS_2D.toLocaleString("en-US")} steps`,
      slug,
      stepsTable: false,
    }));
    await writeChart(slug, long[i]);
  }
  lines.push(...PACGAN_REFERENCE);
  lines.push("## Not yet run", "");
  for (const [i, dataset] of datasets.entries()) {
    const seeds = (name: string) => all[i].filter((r) => r.cell === name).length;
    const todo = STUDY_2D_CELLS.filter((c) => !seeds(c.name));
    const short = STUDY_2D_CELLS.filter((c) => seeds(c.name) && seeds(c.name) < c.seeds);
    lines.push(
      `- ${dataset}: ${
        todo.length ? todo.map((c) => `\`${c.name}\``).join(", ") + "." : "every cell has run."
      }${
        short.length
          ? ` Short of their seeds: ${
            short.map((c) => `\`${c.name}\` (${seeds(c.name)} of ${c.seeds})`).join(", ")
          }.`
          : ""
      }`,
    );
    const longSeeds = (name: string) => long[i].filter((r) => r.cell === name).length;
    const longTodo = LONG_CELLS_2D.filter((c) => longSeeds(c.name) < c.seeds);
    if (long[i].length && longTodo.length) {
      lines.push(
        `- ${dataset} at ${LONG_STEPS_2D.toLocaleString("en-US")} steps, short of their seeds: ${
          longTodo.map((c) => `\`${c.name}\` (${longSeeds(c.name)} of ${c.seeds})`).join(", ")
        }.`,
      );
    }
  }
  lines.push(
    "",
    "## Rerun a cell",
    "",
    "```sh",
    `deno task train ${recipe2d("grid25").join(" ")} ${
      STUDY_2D_CELLS[0].flags.join(" ")
    } --seed 1 --snapshot-every ${SNAPSHOT_EVERY_2D} --out models/study/grid25-${
      STUDY_2D_CELLS[0].name
    }-s1`,
    `deno task eval --model models/study/grid25-${STUDY_2D_CELLS[0].name}-s1`,
    "# the same cell at the converged budget",
    `deno task train ${recipe2d("grid25", LONG_STEPS_2D).join(" ")} ${
      LONG_CELLS_2D[0].flags.join(" ")
    } --seed 1 --snapshot-every ${LONG_SNAPSHOT_EVERY_2D} --out models/study/grid25-200k-${
      LONG_CELLS_2D[0].name
    }-s1`,
    `deno task eval --model models/study/grid25-200k-${LONG_CELLS_2D[0].name}-s1`,
    "```",
    "",
  );
  await Deno.writeTextFile(`${root}/docs/dropout-study.md`, lines.join("\n"));
}
