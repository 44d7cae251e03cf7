/**
 * The opening of docs/dropout-study.md: which dropout rate, where, and with what else, in
 * numbers taken from every study's results (MNIST, grid25, ring8), so it never drifts from them.
 */
import type { StudyResult } from "./study_plans.ts";
import { cellSummary, formatStat, type Stat, withMostSeeds } from "./study_common.ts";

/** A cell's final-step means, by metric, and its seed count. */
interface Final {
  name: string;
  seeds: number;
  at: (key: string) => Stat;
}

function finals(results: StudyResult[]): Map<string, Final> {
  const byCell = Map.groupBy(results, (r) => r.cell);
  return new Map(
    [...byCell].map(([name, runs]) => {
      const s = cellSummary(runs);
      return [name, { name, seeds: runs.length, at: (key: string) => s.at(s.final, key) }];
    }),
  );
}

// Cell names say what varies: "g0.5to0-d0.25" is dropout only; a suffix ("-sc100", "-pack2",
// "-noema", ...) adds something else.
const DROPOUT_ONLY = /^g[\d.]+(?:to[\d.]+)?-d[\d.]+(?:to[\d.]+)?$/;
const isDOnly = (n: string) => DROPOUT_ONLY.test(n) && n.startsWith("g0-") && n !== "g0-d0";
const isGOnly = (n: string) => DROPOUT_ONLY.test(n) && n.endsWith("-d0") && n !== "g0-d0";
const isSelfConditioned = (n: string) => /-sc\d+/.test(n);
const isPlainSelfConditioned = (n: string) => /^g0-d0-sc\d+$/.test(n);
const isDropoutSelfConditioned = (n: string) => isSelfConditioned(n) && !n.startsWith("g0-d0-");
/** Dropout-GAN: an ensemble of discriminators, each dropped from G's feedback at random. */
const isEnsemble = (n: string) => /^dgan\d+$/.test(n);

/** How a dataset's cells are compared and shown. */
interface Scoring {
  /** Negative when `a` is better than `b`. */
  compare: (a: Final, b: Final) => number;
  show: (f: Final) => string;
}

const seedsNote = (f: Final) => (f.seeds > 1 ? `, ${f.seeds} seeds` : ", 1 seed");

const MNIST_SCORING: Scoring = {
  compare: (a, b) => a.at("frechetDistance").mean - b.at("frechetDistance").mean,
  show: (f) =>
    `\`${f.name}\` Fréchet distance ${formatStat(f.at("frechetDistance"), 2)}, classifier score ${
      formatStat(f.at("classifierScore"), 2)
    }${seedsNote(f)}`,
};

const MIXTURE_SCORING: Scoring = {
  compare: (a, b) =>
    b.at("modes").mean - a.at("modes").mean ||
    b.at("highQuality").mean - a.at("highQuality").mean ||
    a.at("reverseKl").mean - b.at("reverseKl").mean,
  show: (f) =>
    `\`${f.name}\` ${f.at("modes").mean.toFixed(1)} modes, ${
      (100 * f.at("highQuality").mean).toFixed(1)
    }% high quality, reverse KL ${f.at("reverseKl").mean.toFixed(3)}${seedsNote(f)}`,
};

interface Verdict {
  line: string;
  dHelps?: boolean;
  gHurts?: boolean;
  conditioningBest?: boolean;
  /** With clusters, the best cell without dropout matches or beats the best with it. */
  clustersNeedNoDropout?: boolean;
  /** The best Dropout-GAN cell beats one plain D; and beats the best D-dropout cell. */
  ensembleBeatsPlain?: boolean;
  ensembleBeatsDropout?: boolean;
}

function verdict(label: string, results: StudyResult[], scoring: Scoring): Verdict | undefined {
  const cells = finals(results);
  if (!cells.size) return undefined;
  // The best of a kind among its cells with the most seeds.
  const best = (pick: (n: string) => boolean) =>
    withMostSeeds([...cells.values()].filter((f) => pick(f.name)), (f) => f.seeds)
      .sort(scoring.compare)[0];
  const plain = cells.get("g0-d0");
  const overall = best(() => true);
  const dOnly = best(isDOnly);
  const gOnly = [...cells.values()].filter((f) => isGOnly(f.name));
  const scPlain = best(isPlainSelfConditioned), scDropout = best(isDropoutSelfConditioned);
  const ensembles = [...cells.values()].filter((f) => isEnsemble(f.name));
  const ensemble = best(isEnsemble);
  const parts = [
    plain ? `no dropout ${scoring.show(plain)}` : "",
    dOnly ? `the best with dropout in D only ${scoring.show(dOnly)}` : "",
    gOnly.length ? `dropout in G only ${gOnly.map(scoring.show).join("; ")}` : "",
    scPlain && scDropout
      ? `self-conditioned, the best without dropout ${scoring.show(scPlain)} and the best with it ${
        scoring.show(scDropout)
      }`
      : "",
    ensembles.length ? `Dropout-GAN ${ensembles.map(scoring.show).join("; ")}` : "",
    `the best cell (of those with the most seeds) ${scoring.show(overall)}`,
  ].filter(Boolean);
  return {
    line: `- **${label}:** ${parts.join("; ")}.`,
    dHelps: plain && dOnly ? scoring.compare(dOnly, plain) < 0 : undefined,
    gHurts: plain && gOnly.length ? gOnly.every((g) => scoring.compare(g, plain) > 0) : undefined,
    conditioningBest: isSelfConditioned(overall.name),
    clustersNeedNoDropout: scPlain && scDropout
      ? scoring.compare(scPlain, scDropout) <= 0
      : undefined,
    ensembleBeatsPlain: ensemble && plain ? scoring.compare(ensemble, plain) < 0 : undefined,
    ensembleBeatsDropout: ensemble && dOnly ? scoring.compare(ensemble, dOnly) < 0 : undefined,
  };
}

/**
 * The section's lines: one bullet per study that has results (the 2-D mixtures also at the
 * converged budget, `converged`, where it has results), then the answer in one line.
 */
export function answerSection(
  studies: { mnist: StudyResult[]; grid25: StudyResult[]; ring8: StudyResult[] },
  converged: { label: string; grid25: StudyResult[]; ring8: StudyResult[] } = {
    label: "",
    grid25: [],
    ring8: [],
  },
): string[] {
  const verdicts = [
    verdict("MNIST (lower Fréchet distance is better)", studies.mnist, MNIST_SCORING),
    verdict("grid25 (modes, then high quality, then reverse KL)", studies.grid25, MIXTURE_SCORING),
    verdict("ring8", studies.ring8, MIXTURE_SCORING),
  ].filter((v): v is Verdict => v !== undefined);
  if (!verdicts.length) return [];
  // The mixtures at the converged budget: their own bullets, and their own clause below (they
  // are not more datasets for the claims above).
  const long = [
    verdict(`grid25 at ${converged.label}`, converged.grid25, MIXTURE_SCORING),
    verdict(`ring8 at ${converged.label}`, converged.ring8, MIXTURE_SCORING),
  ].filter((v): v is Verdict => v !== undefined);
  const longKnown = long.filter((v) => v.dHelps !== undefined);
  // True on every dataset that has the cells to tell (and at least one has).
  type Claim = Exclude<keyof Verdict, "line">;
  const known = (key: Claim) => verdicts.filter((v) => v[key] !== undefined);
  const all = (key: Claim) => known(key).length > 0 && known(key).every((v) => v[key]);
  // "on 1 of 2 datasets it was run on", for a claim that holds on some.
  const count = (key: Claim) =>
    `${known(key).filter((v) => v[key]).length} of ${known(key).length} datasets`;
  const summary = [
    all("dHelps")
      ? "without clusters, dropout belongs in D: alone it beats no dropout on every dataset"
      : "",
    all("gHurts") ? "dropout in G alone does worse than none wherever it was run" : "",
    all("conditioningBest")
      ? "the best cell on every dataset is self-conditioned (G and D see a k-means cluster of the data)"
      : "",
    all("clustersNeedNoDropout")
      ? "once self-conditioned, dropout no longer helps: the best self-conditioned cell without dropout matches or beats the best with it on every dataset that has both"
      : "",
    known("ensembleBeatsPlain").length
      ? `Dropout-GAN's ensemble of discriminators beat one plain D on ${
        count("ensembleBeatsPlain")
      } it was run on${
        known("ensembleBeatsDropout").length
          ? `, and beat dropout in D on ${count("ensembleBeatsDropout")}`
          : ""
      }`
      : "",
    longKnown.length
      ? `at ${converged.label}, dropout in D alone beats no dropout on ${
        longKnown.filter((v) => v.dHelps).length
      } of the ${longKnown.length} mixtures run that long`
      : "",
  ].filter(Boolean);
  return [
    "## The answer so far",
    "",
    "Which dropout rate, where, and with what else: each study's final-step numbers, mean over seeds (generated from the results below and from [study-mnist.json](study-mnist.json); MNIST's tables are in [study-mnist.md](study-mnist.md)).",
    "",
    ...verdicts.map((v) => v.line),
    ...long.map((v) => v.line),
    ...(summary.length ? ["", `**In one line:** ${listed(summary)}.`] : []),
    "",
  ];
}

/** "a; b; and c". */
function listed(clauses: string[]): string {
  if (clauses.length < 2) return clauses.join("");
  return `${clauses.slice(0, -1).join("; ")}; and ${clauses.at(-1)}`;
}
