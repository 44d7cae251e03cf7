import assert from "node:assert/strict";
import { writeReport } from "../eval/study_mnist_report.ts";
import { STUDIES, type StudyResult } from "../eval/study_plans.ts";
import { writeReport2d } from "../eval/study_2d_report.ts";
import { answerSection } from "../eval/study_answer.ts";
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

Deno.test("the MNIST study report names the best cell, averages seeds, lists cells not yet run and those skipped with why", async (t) => {
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
    // A skipped cell is not "not yet run": it is listed apart, with its reason.
    const skipped = STUDIES.mnist.cells.filter((c) => c.skip);
    assert.ok(skipped.length > 0);
    for (const cell of skipped) {
      assert.doesNotMatch(md.split("## Skipped")[0], new RegExp(`\`${cell.name}\``));
      assert.ok(md.includes(`- \`${cell.name}\` (\`${cell.flags.join(" ")}\`): ${cell.skip}.`));
    }
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

Deno.test("every study cell parses as a training command line, with a valid run folder", () => {
  for (const plan of Object.values(STUDIES)) {
    for (const cell of plan.cells) {
      parseTrainArgs([
        ...plan.recipe,
        ...cell.flags,
        "--out",
        `models/study/${plan.dataset}-${cell.name}-s1`,
      ]);
    }
  }
});

Deno.test("the 2-D study report ranks cells, checks the grid25 bar over 3 seeds, draws the curve and checks the budget", async (t) => {
  const dir = await tempDir(t);
  try {
    const run = (cell: string, seed: number, hq: number[], modes = 25, kl = 0.02): StudyResult => ({
      cell,
      seed,
      flags: [],
      commit: "abcdef0123",
      wallTimeS: 600,
      byStep: Object.fromEntries(
        hq.map((x, i) => [String((i + 1) * 10000), { modes, highQuality: x, reverseKl: kl }]),
      ),
    });
    await Deno.mkdir(`${dir}/docs`, { recursive: true });
    const results = [
      run("g0-d0", 1, [0.5, 0.96]),
      run("g0-d0", 2, [0.6, 0.97]),
      run("g0-d0", 3, [0.55, 0.98]),
      run("g0.5-d0.5", 1, [0.2, 0.4], 22, 0.3),
    ];
    await Deno.writeTextFile(`${dir}/docs/study-grid25.json`, JSON.stringify({ results }));
    await writeReport2d(dir);
    const md = await Deno.readTextFile(`${dir}/docs/dropout-study.md`);
    assert.match(
      md,
      /\| g0-d0 \| `--g-dropout 0 --d-dropout 0` \| 3 \| 25\.0 ± 0\.0 \| 97\.0 ± 0\.6 \| 0\.020 ± 0\.000 \|/,
    );
    assert.match(md, /\*\*Best:\*\* `g0-d0`/);
    assert.match(md, /\*\*Bar met\*\* .* by `g0-d0`\./);
    assert.match(
      md,
      /\*\*Answer so far:\*\* the plain GAN \(`g0-d0`\) ends at 25\.0 modes, 97\.0% high quality, reverse KL 0\.020; the best cell is `g0-d0` .* Dropout in both nets: `g0\.5-d0\.5` 22\.0 modes, 40\.0% high quality/,
    );
    assert.match(md, /\| g0\.5-d0\.5 \| 20\.0 \| 40\.0 \|/);
    // No run was scored without its weight average: no such paragraph.
    assert.doesNotMatch(md, /weight average against G's own weights/);
    assert.match(md, /## Not yet run\n\n- grid25: `g0-d0\.25`/);
    // A cell with fewer seeds than its plan asks for is listed with its count; a full one is not.
    assert.match(md, /- grid25: .* Short of their seeds: `g0\.5-d0\.5` \(1 of 3\)\.\n/);
    assert.doesNotMatch(md, /`g0-d0` \(3 of 3\)/);
    assert.match(md, /\n- ring8: `g0-d0`/);
    const svg = await Deno.readTextFile(`${dir}/docs/img/dropout-study-grid25.svg`);
    assert.equal((svg.match(/<polyline/g) ?? []).length, 2);
    // The budget check appears once a long run has results: every 20,000 steps beside the
    // same cell's final at the study's budget.
    assert.doesNotMatch(md, /At 200,000 steps: the converged budget/);
    const long = Array.from({ length: 20 }, (_, i) => 0.5 + i / 100);
    await Deno.writeTextFile(
      `${dir}/docs/study-grid25-200k.json`,
      JSON.stringify({ results: [run("g0-d0", 1, long, 17)] }),
    );
    await writeReport2d(dir);
    assert.match(
      await Deno.readTextFile(`${dir}/docs/dropout-study.md`),
      /## At 200,000 steps: the converged budget\n[^]*\| grid25 \| g0-d0 \| 1 \| 51\.0 \/ 17\.0 \| 53\.0 \/ 17\.0 \|[^\n]* \| 69\.0 \/ 17\.0 \| 97\.0 \/ 25\.0 \(3 seeds\) \| 0\.020 \/ 0\.020 \|\n/,
    );
    const withLong = await Deno.readTextFile(`${dir}/docs/dropout-study.md`);
    // The converged table, and the converged cells still short of their seeds.
    assert.match(
      withLong,
      /### grid25 at 200,000 steps\n\n[^]*\| g0-d0 \| `--g-dropout 0 --d-dropout 0` \| 1 \| 17\.0 \| 69\.0 \| 0\.020 \|/,
    );
    assert.match(
      withLong,
      /- grid25 at 200,000 steps, short of their seeds: `g0-d0` \(1 of 3\), `g0-d0\.25` \(0 of 3\)/,
    );
    // Its curve is drawn: one line for the one long cell, labels thinned to ~10 of 20 steps.
    const longSvg = await Deno.readTextFile(`${dir}/docs/img/dropout-study-grid25-200k.svg`);
    assert.equal((longSvg.match(/<polyline/g) ?? []).length, 1);
    assert.equal((longSvg.match(/>\d+k<\/text>/g) ?? []).length, 10);
    assert.match(withLong, /\]\(img\/dropout-study-grid25-200k\.svg\)/);
    await Deno.remove(`${dir}/docs/study-grid25-200k.json`);
    // A run scored both ways (eval found its final checkpoint) is set against G's own weights.
    const averaged = run("g0-d0", 1, [0.5, 0.96]);
    Object.assign(averaged.byStep["20000"], {
      rawModes: 25,
      rawHighQuality: 0.99,
      rawReverseKl: 0.02,
    });
    await Deno.writeTextFile(
      `${dir}/docs/study-grid25.json`,
      JSON.stringify({ results: [averaged, run("g0-d0", 2, [0.6, 0.97])] }),
    );
    await writeReport2d(dir);
    assert.match(
      await Deno.readTextFile(`${dir}/docs/dropout-study.md`),
      /\*\*The weight average against G's own weights\*\* \(the final step of 1 run scored both ways\): the average has more high-quality samples in 0, fewer in 1 and as many \(within half a point\) in 0; more modes in 0, fewer in 0; its largest loss: `g0-d0` seed 1, 96\.0% and 25 modes against G's 99\.0% and 25\./,
    );
    // One seed is not enough for the bar.
    await Deno.writeTextFile(
      `${dir}/docs/study-grid25.json`,
      JSON.stringify({ results: [run("g0-d0", 1, [0.99])] }),
    );
    await writeReport2d(dir);
    assert.match(
      await Deno.readTextFile(`${dir}/docs/dropout-study.md`),
      /\*\*Bar not met yet\*\*/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("deno task study --dry-run leaves out a skipped cell unless --only names it", async () => {
  const skipped = STUDIES.mnist.cells.find((c) => c.skip)!;
  const dryRun = async (...args: string[]) => {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-all", "eval/study.ts", "--dry-run", ...args],
      cwd: new URL("..", import.meta.url).pathname,
      stdout: "piped",
    }).output();
    return new TextDecoder().decode(out.stdout);
  };
  assert.doesNotMatch(await dryRun(), new RegExp(`mnist-${skipped.name}-s1`));
  assert.match(await dryRun("--only", skipped.name), new RegExp(`mnist-${skipped.name}-s1`));
});

Deno.test("the study opens with the answer: each dataset's plain, D-only, G-only and best cells, and the line they support", () => {
  const mix = (cell: string, seed: number, modes: number, hq: number, kl: number): StudyResult => ({
    cell,
    seed,
    flags: [],
    commit: "0123456789abcdef",
    wallTimeS: 60,
    byStep: { "50000": { modes, highQuality: hq, reverseKl: kl } },
  });
  // No dropout and D dropout alone, on MNIST and grid25: what every claim is measured against.
  const mnistBase = [result("g0-d0", 1, [30, 26]), result("g0-d0.25", 1, [12, 9])];
  const gridBase = [mix("g0-d0", 1, 14, 0.86, 1.1), mix("g0-d0.25", 1, 25, 0.74, 0.02)];
  const lines = answerSection({
    mnist: [
      ...mnistBase,
      result("g0-d0-sc30", 1, [5, 3]),
      result("g0.5to0-d0.25to0-sc30", 1, [6, 4]),
    ],
    grid25: [
      ...gridBase,
      mix("g0.5-d0", 1, 1, 1, 3.2),
      mix("g0-d0.25-sc100", 1, 25, 0.98, 0.006),
    ],
    ring8: [],
  });
  const md = lines.join("\n");
  assert.match(md, /^## The answer so far/);
  assert.match(
    md,
    /\*\*MNIST[^*]*:\*\* no dropout `g0-d0` Fréchet distance 26\.00.*D only `g0-d0\.25` Fréchet distance 9\.00.*the best cell .*`g0-d0-sc30` Fréchet distance 3\.00/,
  );
  assert.match(md, /dropout in G only `g0\.5-d0` 1\.0 modes, 100\.0% high quality/);
  assert.match(md, /the best cell .*`g0-d0\.25-sc100` 25\.0 modes, 98\.0% high quality/);
  assert.doesNotMatch(md, /\*\*ring8/, "no results, no bullet");
  assert.match(
    md,
    /\*\*In one line:\*\* without clusters, dropout belongs in D: alone it beats no dropout on every dataset; dropout in G alone does worse than none wherever it was run; the best cell on every dataset is self-conditioned .*; and once self-conditioned, dropout no longer helps/,
  );
  assert.match(
    md,
    /self-conditioned, the best without dropout `g0-d0-sc30` Fréchet distance 3\.00.* and the best with it `g0\.5to0-d0\.25to0-sc30` Fréchet distance 4\.00/,
  );
  // The mixtures at the converged budget get their own bullets and clause, not more datasets.
  const converged = answerSection({ mnist: mnistBase, grid25: gridBase, ring8: [] }, {
    label: "200,000 steps",
    grid25: [mix("g0-d0", 1, 12, 0.94, 1.3), mix("g0-d0.25", 1, 25, 0.89, 0.005)],
    ring8: [mix("g0-d0", 1, 8, 0.95, 0.2), mix("g0-d0.5", 1, 7, 0.95, 0.001)],
  }).join("\n");
  assert.match(converged, /\*\*grid25 at 200,000 steps:\*\* no dropout `g0-d0` 12\.0 modes/);
  assert.match(converged, /alone it beats no dropout on every dataset;/);
  assert.match(
    converged,
    /at 200,000 steps, dropout in D alone beats no dropout on 1 of the 2 mixtures run that long\./,
  );
  // A D-only cell that loses to no dropout withdraws the first claim.
  const worse = answerSection({
    mnist: [result("g0-d0", 1, [30, 26]), result("g0-d0.5", 1, [40, 35])],
    grid25: [],
    ring8: [],
  }).join("\n");
  assert.doesNotMatch(worse, /dropout belongs in D/);
  // A self-conditioned cell with dropout that beats the one without withdraws the last claim.
  const helps = answerSection({
    mnist: [result("g0-d0-sc30", 1, [5, 4]), result("g0.5to0-d0.25to0-sc30", 1, [5, 3])],
    grid25: [],
    ring8: [],
  }).join("\n");
  assert.doesNotMatch(helps, /dropout no longer helps/);
  // Dropout-GAN is set against one plain D and against D dropout, and counted per dataset.
  const ensemble = answerSection({
    mnist: [...mnistBase, result("dgan2", 1, [40, 52])],
    grid25: [...gridBase, mix("dgan4", 1, 16, 0.86, 1.0)],
    ring8: [],
  }).join("\n");
  assert.match(ensemble, /Dropout-GAN `dgan2` Fréchet distance 52\.00/);
  assert.match(ensemble, /Dropout-GAN `dgan4` 16\.0 modes/);
  assert.match(
    ensemble,
    /; and Dropout-GAN's ensemble of discriminators beat one plain D on 1 of 2 datasets it was run on, and beat dropout in D on 0 of 2 datasets\./,
  );
});
