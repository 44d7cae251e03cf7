/**
 * `deno task study [--dataset mnist|grid25|ring8,...]`: a dropout study at a real budget.
 *
 * Every cell of a study (eval/study_plans.ts) is a list of training flags on top of the study's
 * shared recipe; each run saves snapshots, and the final generator and every snapshot are scored
 * with `deno task eval`, so the report shows quality against steps. Runs start in priority order
 * (the cells that decide a default first, seed 1 of every cell before any seed 2), `--jobs` at a
 * time, each resumable: a run with a checkpoint but no model resumes, a model without metrics is
 * only scored, a scored run is kept. Run it in its own worktree at a fixed commit; every result
 * records that commit, and the raw results are written after each run.
 *
 * ```sh
 * deno task study --jobs 2 --seeds 3 --only g0.5-d0.5,g0-d0.5
 * deno task study --seeds 2-3 --only g0-d0 # seeds 2 and 3 only
 * deno task study --dataset grid25,ring8 --dry-run
 * ```
 */
import { exitUsage, parseCli } from "../cli/flags.ts";
import { taskArgs } from "../cli/tasks.ts";
import { STUDIES, type StudyPlan, type StudyResult } from "./study_plans.ts";
import { finalScores } from "./study_common.ts";

const ROOT = new URL("..", import.meta.url).pathname;

const values = parseCli(
  Deno.args,
  "deno task study: train and score a dropout study's cells at a real budget (resumable).",
  {
    dataset: {
      type: "string",
      default: "mnist",
      accepts: `a comma list of ${Object.keys(STUDIES).join(", ")}`,
    },
    jobs: { type: "string", default: "2", accepts: "runs at once, an integer 1..8" },
    seeds: { type: "string", default: "", accepts: "N (seeds 1..N of each cell) or A-B" },
    only: { type: "string", default: "", accepts: "a comma list of cell names" },
    "dry-run": { type: "boolean", default: false, accepts: "list the runs and their state" },
    report: { type: "boolean", default: false, accepts: "only rewrite the reports" },
  },
);

const plans: StudyPlan[] = values.dataset.split(",").map((name) => {
  const plan = STUDIES[name];
  if (!plan) {
    exitUsage(
      `--dataset: got ${JSON.stringify(name)}; accepts ${Object.keys(STUDIES).join(", ")}`,
    );
  }
  return plan;
});
const jobs = Number(values.jobs);
if (!Number.isInteger(jobs) || jobs < 1 || jobs > 8) {
  exitUsage(`--jobs: got ${JSON.stringify(values.jobs)}; accepts an integer 1..8`);
}
const only = values.only ? new Set(values.only.split(",")) : undefined;
// A name no chosen study has is a typo, not an empty run.
const unknown = [...only ?? []].find((name) =>
  !plans.some((p) => p.cells.some((c) => c.name === name))
);
if (unknown !== undefined) {
  exitUsage(
    `--only: got ${JSON.stringify(unknown)}; accepts cell names of ${
      plans.map((p) => p.dataset).join(", ")
    } (deno task study --dry-run lists them)`,
  );
}
// --seeds N: seeds 1..N of each cell (up to the cell's own count); --seeds A-B: seeds A..B, so
// two worktrees can run different seeds of one cell at once.
const seedRange = values.seeds.match(/^(?:(\d+)-)?(\d+)$/);
const minSeed = seedRange?.[1] ? Number(seedRange[1]) : 1;
const maxSeeds = seedRange ? Number(seedRange[2]) : Infinity;
if (values.seeds && (!seedRange || minSeed < 1 || minSeed > maxSeeds)) {
  exitUsage(`--seeds: got "${values.seeds}"; accepts N or A-B with 1 <= A <= B`);
}
type Run = { plan: StudyPlan; cell: StudyPlan["cells"][number]; seed: number };
const runs: Run[] = plans.flatMap((plan) => {
  // A skipped cell runs only when --only names it.
  const mine = plan.cells.filter((c) => only ? only.has(c.name) : !c.skip).flatMap((cell) =>
    Array.from({ length: Math.min(cell.seeds, maxSeeds) }, (_, i) => ({ plan, cell, seed: i + 1 }))
      .filter((run) => run.seed >= minSeed)
  );
  // Seed 1 of every cell before any second seed, the deciding cells first: the ranking appears
  // early in a study that is stopped and resumed over several sessions.
  const rank = (name: string) =>
    plan.priority.includes(name) ? plan.priority.indexOf(name) : plan.priority.length;
  return mine.sort((a, b) => a.seed - b.seed || rank(a.cell.name) - rank(b.cell.name));
});

if (runs.length === 0 && !values.report) {
  const most = Math.max(...plans.flatMap((p) => p.cells.map((c) => c.seeds)));
  exitUsage(
    `--seeds: got "${values.seeds}", which selects no run; these cells have seeds 1-${most}`,
  );
}

const outOf = (run: Run) => `models/study/${run.plan.dataset}-${run.cell.name}-s${run.seed}`;
const flagsOf = (run: Run) => [...run.plan.recipe, ...run.cell.flags];

async function exists(path: string): Promise<boolean> {
  return await Deno.stat(`${ROOT}/${path}`).then(() => true, () => false);
}

async function metadataOf(dir: string): Promise<Record<string, unknown> | undefined> {
  try {
    return JSON.parse(await Deno.readTextFile(`${ROOT}/${dir}/model.json`)).userDefinedMetadata
      .edgegan;
  } catch {
    return undefined;
  }
}

/** The study was stopped by SIGINT or SIGTERM; its runs checkpointed and it can resume. */
class Stopped extends Error {}

/**
 * The tasks running now. A stop signal is passed on to them: a training saves its checkpoint
 * and exits (otherwise it would die of a broken pipe when the study exits and lose up to
 * `checkpointEvery` steps), and no further run starts.
 */
const live = new Set<Deno.ChildProcess>();
let stopSignal: Deno.Signal | undefined;
const onStop = (["SIGINT", "SIGTERM"] as const).map((signal) => {
  const listener = () => {
    stopSignal ??= signal;
    for (const child of live) child.kill(signal);
  };
  return [signal, listener] as const;
});

async function task(name: string, args: string[], log: string): Promise<void> {
  // stdout and stderr each append to the log through their own handle.
  const open = () => Deno.open(`${ROOT}/${log}`, { create: true, append: true });
  const [out, err] = [await open(), await open()];
  // A stop that came while this run was being prepared: start nothing (checked in the same
  // synchronous stretch as the spawn, so no signal can fall between the two).
  if (stopSignal) {
    out.close();
    err.close();
    throw new Stopped();
  }
  const child = new Deno.Command(Deno.execPath(), {
    args: [...taskArgs(name), ...args],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  live.add(child);
  const [status] = await Promise.all([
    child.status,
    child.stdout.pipeTo(out.writable),
    child.stderr.pipeTo(err.writable),
  ]).finally(() => live.delete(child));
  if (stopSignal) throw new Stopped();
  if (!status.success) throw new Error(`deno task ${name} ${args.join(" ")} failed; see ${log}`);
}

async function snapshotsOf(out: string): Promise<string[]> {
  const dirs: string[] = [];
  try {
    for await (const e of Deno.readDir(`${ROOT}/${out}/snapshots`)) {
      if (e.isDirectory) dirs.push(`${out}/snapshots/${e.name}`);
    }
  } catch {
    // no snapshots
  }
  return dirs.sort();
}

const commit = new TextDecoder().decode(
  (await new Deno.Command("git", { args: ["rev-parse", "HEAD"], cwd: ROOT }).output()).stdout,
).trim();

/** Trains (or resumes) and scores one run; returns its result. */
async function runOne(run: Run): Promise<StudyResult> {
  const { plan, cell, seed } = run;
  const out = outOf(run);
  const log = `${out}.log`;
  await Deno.mkdir(`${ROOT}/models/study`, { recursive: true });
  const trainFlags = [
    ...flagsOf(run),
    "--seed",
    String(seed),
    "--snapshot-every",
    String(plan.snapshotEvery),
    "--sample-every",
    "0",
    "--checkpoint-every",
    String(plan.checkpointEvery),
    "--log-every",
    "1000",
    "--out",
    out,
  ];
  // The commit that trains a run is recorded beside it when training starts.
  const commitFile = `${ROOT}/${out}/COMMIT`;
  if (!(await metadataOf(out))) {
    const resume = await exists(`${out}/checkpoint/checkpoint.bin`);
    if (!resume) {
      await Deno.mkdir(`${ROOT}/${out}`, { recursive: true });
      await Deno.writeTextFile(commitFile, commit + "\n");
    }
    await task("train", [...trainFlags, ...(resume ? ["--resume"] : [])], log);
  }
  const byStep: StudyResult["byStep"] = {};
  const dirs = [...await snapshotsOf(out), out];
  const unscored = [];
  for (const dir of dirs) if (!(await metadataOf(dir))?.metrics) unscored.push(dir);
  // One eval process for all of them: the real-data ceiling is computed once.
  if (unscored.length) {
    await task(
      "eval",
      [...unscored.flatMap((d) => ["--model", d]), ...plan.evalArgs],
      log,
    );
  }
  for (const dir of dirs) {
    const meta = await metadataOf(dir);
    const m = meta!.metrics as Record<string, unknown>;
    byStep[String(meta!.steps)] = Object.fromEntries(
      Object.entries(m).filter(([, v]) => typeof v === "number"),
    ) as Record<string, number>;
  }
  const meta = (await metadataOf(out))!;
  return {
    cell: cell.name,
    seed,
    flags: flagsOf(run),
    commit: (await Deno.readTextFile(commitFile).catch(() => commit)).trim(),
    byStep,
    wallTimeS: meta.wallTimeS as number,
  };
}

/** Each study's results so far, keyed by cell/seed, read from its JSON. */
const key = (r: { cell: string; seed: number }) => `${r.cell}/${r.seed}`;
const results = new Map<StudyPlan, Map<string, StudyResult>>();
for (const plan of plans) {
  const saved: { results: StudyResult[] } = await Deno.readTextFile(`${ROOT}/${plan.resultsPath}`)
    .then((t) => JSON.parse(t), () => ({ results: [] }));
  results.set(plan, new Map(saved.results.map((r) => [key(r), r])));
}
const all = (plan: StudyPlan) => [...results.get(plan)!.values()];

async function writeResults(plan: StudyPlan): Promise<void> {
  const sorted = all(plan).sort((a, b) => key(a).localeCompare(key(b)));
  const path = `${ROOT}/${plan.resultsPath}`;
  const tmp = `${path}.tmp-${Deno.pid}`;
  await Deno.writeTextFile(
    tmp,
    JSON.stringify({ recipe: plan.recipe, results: sorted }, null, 1) + "\n",
  );
  await Deno.rename(tmp, path);
}

if (values["dry-run"]) {
  for (const run of runs) {
    const done = results.get(run.plan)!.has(key({ cell: run.cell.name, seed: run.seed }));
    console.log(
      `${done ? "done" : "todo"} ${outOf(run)}: deno task train ${
        flagsOf(run).join(" ")
      } --seed ${run.seed}`,
    );
  }
  Deno.exit(0);
}

if (!values.report) {
  let next = 0;
  const started = performance.now();
  for (const [signal, listener] of onStop) Deno.addSignalListener(signal, listener);
  await Promise.all(Array.from({ length: jobs }, async () => {
    while (next < runs.length && !stopSignal) {
      const run = runs[next++];
      const done = results.get(run.plan)!;
      if (done.has(key({ cell: run.cell.name, seed: run.seed }))) continue;
      let result: StudyResult;
      try {
        result = await runOne(run);
      } catch (err) {
        if (err instanceof Stopped) break;
        throw err;
      }
      done.set(key(result), result);
      await writeResults(run.plan);
      const final = finalScores(result);
      console.log(
        `${run.plan.dataset} ${run.cell.name} seed ${run.seed}: ${run.plan.headline(final)} ` +
          `(trained in ${(result.wallTimeS / 60).toFixed(1)} min; study running ${
            ((performance.now() - started) / 60000).toFixed(1)
          } min)`,
      );
    }
  }));
  for (const [signal, listener] of onStop) Deno.removeSignalListener(signal, listener);
  if (stopSignal) {
    console.log(
      `study: ${stopSignal}: stopped; each running training saved its checkpoint; the same command resumes`,
    );
    Deno.exit(stopSignal === "SIGINT" ? 130 : 143);
  }
}
for (const plan of plans) await plan.writeReport(all(plan), ROOT);
