/**
 * `deno task study`: the dropout study on MNIST at the shipped budget (50,000 steps).
 *
 * Every cell is a list of training flags on top of one shared recipe; each runs with
 * `--snapshot-every 10000`, and the final generator and every snapshot are scored with
 * `deno task eval`, so the report shows quality against steps. Cells run in priority order (the
 * ones that decide the default first), `--jobs` at a time, each resumable: a cell with a
 * checkpoint but no model resumes, a model without metrics is only evaluated, a scored cell is
 * kept. Run it in its own worktree at a fixed commit; every result records that commit.
 *
 * ```sh
 * deno task study --jobs 2 --seeds 3 --only g0.5-d0.5,g0-d0.5
 * ```
 */
import { parseArgs } from "node:util";
import { taskArgs } from "../bench/tasks.ts";
import {
  STUDY_CELLS,
  STUDY_PRIORITY,
  STUDY_RECIPE,
  type StudyResult,
  writeReport,
} from "./study_mnist_report.ts";

const ROOT = new URL("..", import.meta.url).pathname;

const { values } = parseArgs({
  args: Deno.args,
  options: {
    jobs: { type: "string", default: "2" },
    seeds: { type: "string", default: "" },
    only: { type: "string", default: "" },
    samples: { type: "string", default: "10000" },
    "dry-run": { type: "boolean", default: false },
    report: { type: "boolean", default: false },
  },
});

const only = values.only ? new Set(values.only.split(",")) : undefined;
const maxSeeds = values.seeds ? Number(values.seeds) : Infinity;
const runs = STUDY_CELLS.filter((c) => !only || only.has(c.name)).flatMap((cell) =>
  Array.from({ length: Math.min(cell.seeds, maxSeeds) }, (_, i) => ({ cell, seed: i + 1 }))
);
// Seed 1 of every cell before any second seed, the deciding cells first: the ranking appears
// early in a study that is stopped and resumed over several sessions.
const PRIORITY = STUDY_PRIORITY;
const rank = (name: string) => PRIORITY.includes(name) ? PRIORITY.indexOf(name) : PRIORITY.length;
runs.sort((a, b) => a.seed - b.seed || rank(a.cell.name) - rank(b.cell.name));

const outOf = (name: string, seed: number) => `models/study/mnist-${name}-s${seed}`;

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

async function task(name: string, args: string[], log: string): Promise<void> {
  // stdout and stderr each append to the log through their own handle.
  const open = () => Deno.open(`${ROOT}/${log}`, { create: true, append: true });
  const [out, err] = [await open(), await open()];
  const child = new Deno.Command(Deno.execPath(), {
    args: [...taskArgs(name), ...args],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const [status] = await Promise.all([
    child.status,
    child.stdout.pipeTo(out.writable),
    child.stderr.pipeTo(err.writable),
  ]);
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
async function runOne(cell: typeof STUDY_CELLS[number], seed: number): Promise<StudyResult> {
  const out = outOf(cell.name, seed);
  const log = `${out}.log`;
  await Deno.mkdir(`${ROOT}/models/study`, { recursive: true });
  const trainFlags = [
    ...STUDY_RECIPE,
    ...cell.flags,
    "--seed",
    String(seed),
    "--snapshot-every",
    "10000",
    "--sample-every",
    "0",
    "--checkpoint-every",
    "2000",
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
      [...unscored.flatMap((d) => ["--model", d]), "--samples", values.samples!],
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
    flags: [...STUDY_RECIPE, ...cell.flags],
    commit: (await Deno.readTextFile(commitFile).catch(() => commit)).trim(),
    byStep,
    wallTimeS: meta.wallTimeS as number,
  };
}

const resultsPath = `${ROOT}/docs/study-mnist.json`;
const saved: { results: StudyResult[] } = await Deno.readTextFile(resultsPath).then(
  (t) => JSON.parse(t),
  () => ({ results: [] }),
);
const key = (r: { cell: string; seed: number }) => `${r.cell}/${r.seed}`;
const results = new Map(saved.results.map((r) => [key(r), r]));

async function writeResults(): Promise<void> {
  const sorted = [...results.values()].sort((a, b) => key(a).localeCompare(key(b)));
  const tmp = `${resultsPath}.tmp-${Deno.pid}`;
  await Deno.writeTextFile(
    tmp,
    JSON.stringify({ recipe: STUDY_RECIPE, results: sorted }, null, 1) + "\n",
  );
  await Deno.rename(tmp, resultsPath);
}

if (values["dry-run"]) {
  for (const { cell, seed } of runs) {
    console.log(
      `${results.has(key({ cell: cell.name, seed })) ? "done" : "todo"} ${
        outOf(cell.name, seed)
      }: deno task train ${[...STUDY_RECIPE, ...cell.flags].join(" ")} --seed ${seed}`,
    );
  }
  Deno.exit(0);
}

if (values.report) {
  await writeReport([...results.values()], ROOT);
  Deno.exit(0);
}

let next = 0;
const started = performance.now();
await Promise.all(Array.from({ length: Number(values.jobs) }, async () => {
  while (next < runs.length) {
    const { cell, seed } = runs[next++];
    if (results.has(key({ cell: cell.name, seed }))) continue;
    const result = await runOne(cell, seed);
    results.set(key(result), result);
    await writeResults();
    const final = result.byStep[String(Math.max(...Object.keys(result.byStep).map(Number)))];
    console.log(
      `${cell.name} seed ${seed}: FD ${final.frechetDistance} CS ${final.classifierScore} P ${final.precision} R ${final.recall} (${
        ((performance.now() - started) / 60000).toFixed(1)
      } min)`,
    );
  }
}));
await writeReport([...results.values()], ROOT);
