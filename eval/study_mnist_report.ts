/**
 * The MNIST full-budget study's cells, its shared recipe, and its report
 * (docs/study-mnist.md, docs/img/study-mnist-steps.svg); run by eval/study.ts.
 */
import type { StudyCell, StudyResult } from "./study_plans.ts";
import { cellSummary, formatStat, lineChart } from "./study_common.ts";

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
export const STUDY_CELLS: StudyCell[] = [
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
  {
    name: "g0.5to0-d0.5to0.1cos",
    flags: dropout("0.5:0", "0.5:0.1:cosine"),
    seeds: 1,
    skip:
      "not run: the 2-D study's seeds took its 40 minutes. The linear schedules say where D's " +
      "rate should end: fading it from 0.5 to 0 gave back most of what D dropout won " +
      "(`g0.5to0-d0.5to0` 17.68 against 9.36 for a constant 0.5); whether a cosine curve " +
      "that stops at 0.1 keeps it is open",
  },
  { name: "g0.5to0-d0.25-noema", flags: [...dropout("0.5:0", "0.25"), "--ema", "0"], seeds: 1 },
  {
    name: "g0.5-d0.5-noema",
    flags: [...dropout("0.5", "0.5"), "--ema", "0"],
    seeds: 1,
    skip: "EMA on and off is measured on `g0.5to0-d0.25` (Fréchet distance 9.18 with the " +
      "average, 11.28 without; classifier score 7.73 against 7.63) and on the 2-D mixtures; " +
      "a second pair would cost 40 minutes for the same question",
  },
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
  // The same with 50 clusters (purer by digit: 79% against 72.5%).
  { name: "g0.5to0-d0.25to0-sc50", flags: dropout("0.5:0", "0.25:0", 50), seeds: 3 },
  {
    name: "g0.5-d0.5-sc30",
    flags: dropout("0.5", "0.5", 30),
    seeds: 1,
    skip: "whether dropout helps once G and D see clusters is measured at 30 and 100 clusters " +
      "(`g0.5to0-d0.25-sc30` 3.72 and `g0.5to0-d0.25to0-sc30` 4.12 against `g0-d0-sc30` 3.58; " +
      "`g0.5to0-d0.25to0-sc100` " +
      "2.69 ± 0.16 against `g0-d0-sc100` 2.48 ± 0.05 over 3 seeds), and constant G dropout 0.5 " +
      "is the costliest rate without clusters (`g0.5-d0.5` 17.36 against `g0-d0.5` 9.36)",
  },
  // 100 clusters: 84% pure by digit (50: 79%), so fewer clusters teach in-between digits.
  { name: "g0.5to0-d0.25to0-sc100", flags: dropout("0.5:0", "0.25:0", 100), seeds: 3 },
  // The default's clusters without any dropout: does its fading dropout still earn its place?
  // (On grid25, once G was conditioned, no dropout did as well or better.)
  { name: "g0-d0-sc100", flags: dropout("0", "0", 100), seeds: 3 },
  // The default plus an auxiliary classifier of the clusters (AC-GAN on k-means labels): D names
  // a real image's cluster, and G is trained so D names the cluster it was asked for.
  {
    name: "g0.5to0-d0.25to0-sc50-ac1",
    flags: [...dropout("0.5:0", "0.25:0", 50), "--aux-classifier", "1"],
    seeds: 3,
    skip: "stopped at 20,000 steps of seed 1 (commit 672ae4a): classifier score 8.67 and " +
      "recall 0.416, against 8.73 and 0.516 for `g0.5to0-d0.25to0-sc50` at the same step; " +
      "naming the cluster makes G's digits more alike, as the auxiliary classifier did on " +
      "`mnist-cond` (recall 0.699 against 0.781 without it)",
  },
];

/** The order runs start in: these cells first, then the rest; seed 1 of all before seed 2. */
export const STUDY_PRIORITY = [
  "g0-d0-sc100",
  "g0.5to0-d0.25",
  "g0-d0.25",
  "g0.5-d0.5",
  "g0.5to0-d0.25-noema",
  "g0.5to0-d0.25-sc30",
  "g0-d0-sc30",
  "g0.5to0-d0.25to0-sc30",
  "g0.5to0-d0.25to0-sc50",
];

const COLUMNS = [
  { key: "frechetDistance", label: "Fréchet distance ↓", digits: 2 },
  { key: "classifierScore", label: "classifier score ↑", digits: 2 },
  { key: "precision", label: "precision ↑", digits: 3 },
  { key: "recall", label: "recall ↑", digits: 3 },
  { key: "density", label: "density", digits: 3 },
  { key: "coverage", label: "coverage ↑", digits: 3 },
] as const;

/** Writes docs/study-mnist.md and its chart from the results. */
export async function writeReport(all: StudyResult[], root: string): Promise<void> {
  if (!all.length) return;
  const byCell = new Map<string, StudyResult[]>();
  for (const r of all) byCell.set(r.cell, [...(byCell.get(r.cell) ?? []), r]);
  const order = STUDY_CELLS.map((c) => c.name).filter((n) => byCell.has(n));
  const fmt = formatStat;
  const rows = order.map((name) => {
    const s = cellSummary(byCell.get(name)!);
    return { name, s, fd: s.at(s.final, "frechetDistance") };
  });
  const best = [...rows].sort((a, b) => a.fd.mean - b.fd.mean)[0];
  // Every step some run was scored at; a run without snapshots shows only its final step.
  const allSteps = [...new Set(rows.flatMap((r) => r.s.steps))].sort((a, b) => a - b);
  const flagsOf = (name: string) => STUDY_CELLS.find((c) => c.name === name)!.flags.join(" ");
  const unrun = STUDY_CELLS.filter((c) => !byCell.has(c.name));
  const notYet = unrun.filter((c) => !c.skip).map((c) => c.name);
  const skipped = unrun.filter((c) => c.skip);
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
    notYet.length
      ? `These cells have no result yet: a run takes ~40 minutes on this 2-core machine, two at a time, so the study runs over several sessions and resumes where it stopped (a run's checkpoint every 2,000 steps): ${
        notYet.map((n) => `\`${n}\``).join(", ")
      }.`
      : "Every cell that is not skipped has run.",
    "",
    ...(skipped.length
      ? [
        "## Skipped, and why",
        "",
        ...skipped.map((c) => `- \`${c.name}\` (\`${c.flags.join(" ")}\`): ${c.skip}.`),
        "",
      ]
      : []),
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
  await Deno.writeTextFile(
    `${root}/docs/img/study-mnist-steps.svg`,
    lineChart(
      rows.map(({ name, s }) => ({
        name,
        points: s.steps.map((st) => [st, s.at(st, "frechetDistance").mean] as [number, number]),
      })),
      { yLabel: "Fréchet distance (log)", log: true },
    ),
  );
}
