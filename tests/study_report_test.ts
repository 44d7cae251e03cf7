import assert from "node:assert/strict";
import { STUDY_CELLS, type StudyResult, writeReport } from "../eval/study_mnist_report.ts";
import { parseTrainArgs } from "../train/config.ts";
import { tempDir } from "./helpers.ts";

const result = (cell: string, seed: number, fd: number[]): StudyResult => ({
  cell,
  seed,
  flags: [],
  commit: "0123456789abcdef",
  wallTimeS: 1200,
  byStep: Object.fromEntries(
    fd.map((x, i) => [
      String((i + 1) * 10000),
      {
        frechetDistance: x,
        classifierScore: 9,
        precision: 0.8,
        recall: 0.6,
        density: 1,
        coverage: 0.9,
      },
    ]),
  ),
});

Deno.test("the MNIST study report names the best cell, averages seeds and lists cells not yet run", async (t) => {
  const dir = await tempDir(t);
  try {
    await writeReport([
      result("g0.5-d0.5", 1, [40, 30]),
      result("g0-d0.5", 1, [20, 10]),
      result("g0-d0.5", 2, [22, 12]),
    ], dir);
    const md = await Deno.readTextFile(`${dir}/docs/study-mnist.md`);
    assert.match(
      md,
      /\*\*Best so far:\*\* `--g-dropout 0 --d-dropout 0\.5 --self-condition 0` \(cell `g0-d0\.5`\), Fréchet distance 11\.00 ± 1\.00/,
    );
    assert.match(
      md,
      /\| g0\.5-d0\.5 \| `--g-dropout 0\.5 --d-dropout 0\.5 --self-condition 0` \| 1 \| 30\.00 \|/,
    );
    assert.match(md, /\| g0-d0\.5 \| 21\.0 ± 1\.0 \| 11\.0 ± 1\.0 \|/);
    assert.match(md, /no result yet.*`dgan4`/);
    assert.match(
      md,
      /\*\*Ranking so far\*\* .*`g0-d0\.5` 11\.00 ± 1\.00 < `g0\.5-d0\.5` 30\.00 \(1 seed\)/,
    );
    assert.match(md, /trained at commit 0123456/);
    const svg = await Deno.readTextFile(`${dir}/docs/img/study-mnist-steps.svg`);
    assert.equal((svg.match(/<polyline/g) ?? []).length, 2);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a run without snapshots shows only its final step in the steps table", async (t) => {
  const dir = await tempDir(t);
  try {
    const final = result("g0-d0", 1, [9]);
    final.byStep = { "20000": final.byStep["10000"] };
    await writeReport([result("g0-d0.5", 1, [20, 10]), final], dir);
    const md = await Deno.readTextFile(`${dir}/docs/study-mnist.md`);
    assert.match(md, /\| cell \| 10k \| 20k \|/);
    assert.match(md, /\| g0-d0 \| — \| 9\.0 \|/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("every study cell's run folder is a valid --out", () => {
  for (const cell of STUDY_CELLS) {
    parseTrainArgs(["--out", `models/study/mnist-${cell.name}-s1`]);
  }
});
