/** A study stopped by a signal passes it on, so its running trainings checkpoint before it exits. */
import assert from "node:assert/strict";
import { STUDIES } from "../eval/study_plans.ts";

Deno.test("SIGTERM stops a study: the running training saves its checkpoint, and the study exits 143", async () => {
  const root = new URL("..", import.meta.url).pathname;
  // A ring8 run the study has no result for (a finished one would be skipped).
  const done = JSON.parse(await Deno.readTextFile(`${root}docs/study-ring8.json`)).results as {
    cell: string;
    seed: number;
  }[];
  const todo = STUDIES.ring8.cells.filter((c) => !c.skip).flatMap((c) =>
    Array.from({ length: c.seeds }, (_, i) => ({ cell: c.name, seed: i + 1 }))
  ).find((r) => !done.some((d) => d.cell === r.cell && d.seed === r.seed));
  assert.ok(todo, "every ring8 run has a result; pick another study for this test");
  const run = `${root}models/study/ring8-${todo.cell}-s${todo.seed}`;
  assert.ok(
    !(await Deno.stat(run).then(() => true, () => false)),
    `${run} exists; this test trains there (remove it)`,
  );
  const study = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-all",
      "eval/study.ts",
      "--dataset",
      "ring8",
      "--only",
      todo.cell,
      "--seeds",
      `${todo.seed}-${todo.seed}`,
      "--jobs",
      "1",
    ],
    cwd: root,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  try {
    // Wait until the training has logged its first 1,000 steps.
    for (let i = 0; i < 600; i++) {
      // (metrics.jsonl is created empty before the training listens for signals).
      const size = await Deno.stat(`${run}/metrics.jsonl`).then((s) => s.size, () => 0);
      if (size > 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    study.kill("SIGTERM");
    const out = await study.output();
    const stdout = new TextDecoder().decode(out.stdout);
    assert.equal(out.code, 143, stdout + new TextDecoder().decode(out.stderr));
    assert.match(stdout, /study: SIGTERM: stopped; each running training saved its checkpoint/);
    const log = await Deno.readTextFile(`${run}.log`);
    assert.match(log, /SIGTERM: stopped at step \d+; checkpoint saved/);
    assert.ok((await Deno.stat(`${run}/checkpoint/checkpoint.bin`)).size > 0);
  } finally {
    await Deno.remove(run, { recursive: true }).catch(() => {});
    await Deno.remove(`${run}.log`).catch(() => {});
  }
});
