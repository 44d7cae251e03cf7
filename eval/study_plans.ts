/**
 * What each dropout study runs: per dataset, the flags every run shares, the cells (each a list
 * of training flags and a number of seeds), the order they start in, how runs are scored, where
 * the raw results go, and the report written from them. eval/study.ts runs any of them.
 */
import {
  STUDY_CELLS,
  STUDY_PRIORITY,
  STUDY_RECIPE,
  writeReport as writeMnistReport,
} from "./study_mnist_report.ts";
import {
  LONG_CELLS_2D,
  LONG_PRIORITY_2D,
  LONG_SNAPSHOT_EVERY_2D,
  LONG_STEPS_2D,
  recipe2d,
  SNAPSHOT_EVERY_2D,
  STUDY_2D_CELLS,
  STUDY_2D_PRIORITY,
  writeReport2d,
} from "./study_2d_report.ts";

/** One training run's scores: the final model's and each snapshot's, by step. */
export interface StudyResult {
  cell: string;
  seed: number;
  flags: string[];
  commit: string;
  /** Metrics of the final model and of each snapshot, by step. */
  byStep: Record<string, Record<string, number>>;
  wallTimeS: number;
}

export interface StudyCell {
  /** A folder-safe name (no ":"): "0.5to0" is the schedule 0.5:0. */
  name: string;
  flags: string[];
  seeds: number;
  /**
   * Why the cell is not run (a measured reason), if it is skipped: the study leaves it out
   * unless `--only` names it, and the report lists it with the reason.
   */
  skip?: string;
}

export interface StudyPlan {
  dataset: string;
  /** Flags every run shares (before the cell's own). */
  recipe: string[];
  cells: StudyCell[];
  /** These cells start first, in this order; seed 1 of every cell before any seed 2. */
  priority: string[];
  snapshotEvery: number;
  checkpointEvery: number;
  /** Extra `deno task eval` flags. */
  evalArgs: string[];
  /** The raw results, relative to the repository root. */
  resultsPath: string;
  /** One line about a run's final scores, for the console. */
  headline: (m: Record<string, number>) => string;
  /** Writes the report from every result of this study. */
  writeReport: (results: StudyResult[], root: string) => Promise<void>;
}

const plan2d = (dataset: "grid25" | "ring8"): StudyPlan => ({
  dataset,
  recipe: recipe2d(dataset),
  cells: STUDY_2D_CELLS,
  priority: STUDY_2D_PRIORITY,
  snapshotEvery: SNAPSHOT_EVERY_2D,
  checkpointEvery: 5000,
  evalArgs: [],
  resultsPath: `docs/study-${dataset}.json`,
  headline: (m) =>
    `modes ${m.modes}, high quality ${
      (100 * m.highQuality).toFixed(1)
    }%, reverse KL ${m.reverseKl}`,
  writeReport: (_results, root) => writeReport2d(root),
});

/** The 2-D study at the converged budget: the cells the issue asks for, 4x as long. */
const planLong2d = (dataset: "grid25" | "ring8"): StudyPlan => ({
  ...plan2d(dataset),
  dataset: `${dataset}-200k`,
  recipe: recipe2d(dataset, LONG_STEPS_2D),
  cells: LONG_CELLS_2D,
  priority: LONG_PRIORITY_2D,
  snapshotEvery: LONG_SNAPSHOT_EVERY_2D,
  checkpointEvery: LONG_SNAPSHOT_EVERY_2D,
  resultsPath: `docs/study-${dataset}-200k.json`,
});

export const STUDIES: Record<string, StudyPlan> = {
  mnist: {
    dataset: "mnist",
    recipe: STUDY_RECIPE,
    cells: STUDY_CELLS,
    priority: STUDY_PRIORITY,
    snapshotEvery: 10000,
    checkpointEvery: 2000,
    evalArgs: ["--samples", "10000"],
    resultsPath: "docs/study-mnist.json",
    headline: (m) =>
      `FD ${m.frechetDistance} CS ${m.classifierScore} P ${m.precision} R ${m.recall}`,
    writeReport: writeMnistReport,
  },
  grid25: plan2d("grid25"),
  ring8: plan2d("ring8"),
  "grid25-200k": planLong2d("grid25"),
  "ring8-200k": planLong2d("ring8"),
};
