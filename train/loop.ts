/**
 * The training run: set-up, the step loop with progress, samples, metrics and checkpoints,
 * signal handling, and the saved generator at the end.
 */
import { statfsSync } from "node:fs";
import { basename } from "node:path";
import { type BackendInfo, initBackend } from "../tfjs/backend.ts";
import { generate, saveGenerator } from "../tfjs/generator_files.ts";
import type { GeneratorMetadata } from "../format/generator_metadata.ts";
import { LATENT_SAMPLER } from "../random/seeded.ts";
import { removeStaleTemps, writeFileAtomic } from "../format/atomic.ts";
import {
  BEFORE_THE_FLAG,
  DEFAULTS,
  type DropoutRate,
  FLAGS,
  formatRate,
  formatValue,
  RESUMABLE_CHANGES,
  type TrainConfig,
} from "./config.ts";
import { UsageError } from "../cli/flags.ts";
import { checkpointPath, loadCheckpoint, saveCheckpoint } from "./checkpoint.ts";
import { loadMnist } from "../datasets/mnist.ts";
import { MIXTURES } from "../datasets/mixtures.ts";
import { type Gan, RealData, type StepStats } from "./gan.ts";
import { createGan, resolveEngine } from "./fused.ts";
import { digitGridPng, scatterPng } from "./plots.ts";
import { formatDuration, ProgressPrinter } from "./progress.ts";
import { writeReport } from "./report.ts";
import { DATASET_SPECS } from "../datasets/specs.ts";

/** Training stopped for a reason a user can act on (divergence, unwritable output). */
export class TrainingError extends Error {
  override name = "TrainingError";
}

export interface RunOptions {
  printer?: ProgressPrinter;
  /** Save a checkpoint and stop on SIGINT/SIGTERM (default true). */
  handleSignals?: boolean;
  /** Test hook, called before each step (e.g. to inject a fault). */
  beforeStep?: (gan: Gan, step: number) => void;
}

export interface RunResult {
  status: "finished" | "interrupted";
  /** Completed steps. */
  step: number;
  signal?: Deno.Signal;
  metadata?: GeneratorMetadata;
  backend: BackendInfo;
}

const SAMPLE_GRID = 64;
const SCATTER_POINTS = 2500;

export async function runTraining(
  cliConfig: TrainConfig,
  explicit: ReadonlySet<keyof TrainConfig> = new Set(),
  options: RunOptions = {},
): Promise<RunResult> {
  const printer = options.printer ?? new ProgressPrinter();
  const lock = await lockOut(cliConfig.out);
  try {
    return await train(cliConfig, explicit, options, printer);
  } finally {
    lock.close();
  }
}

/**
 * Takes `out/.lock` (an advisory lock the OS drops when the process ends, however it ends), so a
 * second training into the same folder, say a study started twice, stops at once instead of
 * resuming the same checkpoint beside the first.
 */
async function lockOut(out: string): Promise<Deno.FsFile> {
  let file: Deno.FsFile;
  try {
    await Deno.mkdir(out, { recursive: true });
    file = await Deno.open(`${out}/.lock`, { create: true, write: true });
  } catch (err) {
    throw new TrainingError(`--out: cannot write to ${out} (${(err as Error).message})`);
  }
  if (!(await file.tryLock(true))) {
    file.close();
    throw new TrainingError(
      `--out: another training is writing to ${out}; wait for it to end or choose another --out`,
    );
  }
  // Only the lock's holder clears stale temporary files: another run's may be in flight.
  try {
    await prepareOut(out);
  } catch (err) {
    file.close();
    throw err;
  }
  return file;
}

/** The run, once `out` is locked: set-up, the step loop, and what the last step leaves. */
async function train(
  cliConfig: TrainConfig,
  explicit: ReadonlySet<keyof TrainConfig>,
  options: RunOptions,
  printer: ProgressPrinter,
): Promise<RunResult> {
  const { config, checkpoint } = await openRun(cliConfig, explicit);
  const backend = await initBackend(config.backend);
  const mnist = DATASET_SPECS[config.dataset].kind === "images"
    ? await loadMnist("train")
    : undefined;
  printHeader(printer, config, backend, mnist?.count, checkpoint?.step);

  const gan = createGan(config, new RealData(config, mnist));
  try {
    if (checkpoint) gan.restore(checkpoint.step, checkpoint.tensors);
    const files = new RunFiles(config, gan, backend, checkpoint?.wallTimeS ?? 0);
    await resetMetrics(config.out, checkpoint?.step ?? 0);
    const stop = listenForStop(options.handleSignals ?? true);
    const progress = new Progress(printer, files, config);
    let step = checkpoint?.step ?? 0;
    let lastGood = checkpoint?.step;
    try {
      while (step < config.steps) {
        options.beforeStep?.(gan, step);
        const stats = gan.step(step);
        step += 1;
        failIfDiverged(stats, step, lastGood, config.out);
        await progress.record(step, stats);
        if (due(config.sampleEvery, step)) await files.samples(step);
        if (due(config.snapshotEvery, step) && step < config.steps) await files.snapshot(step);
        if (due(config.checkpointEvery, step)) lastGood = await files.checkpoint(step);
        const signal = await stop.signalAfterStep();
        if (signal && step < config.steps) {
          await files.checkpoint(step);
          printer.line(
            `${signal}: stopped at step ${step}; checkpoint saved to ${
              checkpointPath(config.out)
            }; continue with --resume`,
          );
          return { status: "interrupted", step, signal, backend };
        }
      }
    } finally {
      stop.dispose();
    }

    // The last step always leaves samples, a checkpoint, the generator and the report.
    if (!due(config.sampleEvery, step)) await files.samples(step);
    if (!due(config.checkpointEvery, step)) await files.checkpoint(step);
    const metadata = await files.generator(step);
    const report = await writing(`${config.out}/report`, () => writeReport(config.out));
    printer.line(`training report: ${report.join(", ")}`);
    printer.line(
      `done: ${step} steps in ${
        formatDuration(files.wallTimeS())
      }; generator saved to ${config.out}/model.json (weights sha256 ${
        metadata.weightsSha256.slice(0, 12)
      }…)`,
    );
    return { status: "finished", step, metadata, backend };
  } finally {
    gan.dispose();
  }
}

/** Whether a periodic action (every `every` steps; 0 = never) falls on `step`. */
function due(every: number, step: number): boolean {
  return every > 0 && step % every === 0;
}

/**
 * Reads the checkpoint in `out` on --resume; the config to train with (the
 * checkpoint's, where resuming), with the engine `auto` chose recorded so a resume keeps it.
 */
async function openRun(
  cliConfig: TrainConfig,
  explicit: ReadonlySet<keyof TrainConfig>,
): Promise<{ config: TrainConfig; checkpoint?: Awaited<ReturnType<typeof loadCheckpoint>> }> {
  const out = cliConfig.out;
  const checkpoint = cliConfig.resume ? await loadCheckpoint(out) : undefined;
  if (!checkpoint && !cliConfig.overwrite) {
    if (await exists(checkpointPath(out))) {
      throw new UsageError(
        `--out: ${out} holds a checkpoint from an earlier run; pass --resume to continue it, --overwrite to start afresh, or choose another --out`,
      );
    }
    // A fresh run rewrites metrics.jsonl and the sample grids at once and the model at its end,
    // so a folder holding a saved model (a shipped one, say) is only reused when asked.
    if (await exists(`${out}/model.json`)) {
      throw new UsageError(
        `--out: ${out} holds a saved model; pass --overwrite to train it again in place, or choose another --out`,
      );
    }
  }
  if (cliConfig.overwrite) {
    await Deno.remove(`${out}/checkpoint`, { recursive: true }).catch((err) => {
      if (err instanceof Deno.errors.NotFound) return;
      throw new TrainingError(`--overwrite: cannot remove ${out}/checkpoint (${err.message})`);
    });
  }
  const chosen = checkpoint ? resumedConfig(checkpoint.config, cliConfig, explicit) : cliConfig;
  const config = { ...chosen, engine: resolveEngine(chosen) };
  checkFreeSpace(out, config);
  return { config, checkpoint };
}

/** The resolved configuration, the backend, the data, and where a resumed run picks up. */
function printHeader(
  printer: ProgressPrinter,
  config: TrainConfig,
  backend: BackendInfo,
  mnistCount: number | undefined,
  resumeStep: number | undefined,
): void {
  printer.line(describeConfig(config));
  printer.line(
    `backend: ${backend.name}${
      backend.name === "wasm"
        ? ` (SIMD ${onOff(backend.simd)}, threads ${onOff(backend.threads)})`
        : ""
    }, tfjs ${backend.tfjsVersion}`,
  );
  const mixture = MIXTURES[config.dataset];
  printer.line(
    mnistCount !== undefined
      ? `data: MNIST train, ${mnistCount} images 28x28, pixels scaled to [-1, 1]`
      : `data: ${config.dataset}, ${mixture.modes.length} Gaussian modes, std ${mixture.std}`,
  );
  if (resumeStep !== undefined) {
    printer.line(`resuming from step ${resumeStep} (${checkpointPath(config.out)})`);
  }
  if (config.selfCondition > 0) {
    printer.line(`self-conditioning: k-means of the data into ${config.selfCondition} clusters`);
  }
}

/** Stops the run with a `TrainingError` when a loss or output went non-finite. */
function failIfDiverged(
  stats: StepStats,
  step: number,
  lastGood: number | undefined,
  out: string,
): void {
  const bad = nonFinite(stats);
  if (!bad) return;
  throw new TrainingError(
    `training diverged at step ${step}: ${bad}; ` +
      (lastGood === undefined
        ? "no checkpoint was written yet"
        : `the last good checkpoint (step ${lastGood}) is kept in ${checkpointPath(out)}`) +
      "; try a lower --lr",
  );
}

/** The progress line every 10 steps, and a metrics.jsonl record every `logEvery`. */
class Progress {
  #interval = new IntervalStats();

  constructor(
    readonly printer: ProgressPrinter,
    readonly files: RunFiles,
    readonly config: TrainConfig,
  ) {}

  async record(step: number, stats: StepStats): Promise<void> {
    const { config, printer } = this;
    this.#interval.add(stats);
    const now = performance.now();
    const stepsPerS = this.#interval.stepsPerS(now);
    if (step % config.logEvery === 0 || step === config.steps) {
      const mean = this.#interval.mean();
      printer.record({ step, steps: config.steps, stepsPerS, ...mean });
      await this.files.metrics({ step, stepsPerS: round(stepsPerS, 2), ...roundAll(mean) });
      this.#interval.reset(now);
    } else if (step % 10 === 0) {
      printer.update({ step, steps: config.steps, stepsPerS, ...stats });
    }
  }
}

/** Everything a run writes into `out`, atomically: metrics, samples, snapshots, checkpoints. */
class RunFiles {
  readonly #started = performance.now();

  constructor(
    readonly config: TrainConfig,
    readonly gan: Gan,
    readonly backend: BackendInfo,
    /** Training time of the run before this process (a resumed run's checkpoint). */
    readonly priorWallTimeS: number,
  ) {}

  wallTimeS(): number {
    return this.priorWallTimeS + (performance.now() - this.#started) / 1000;
  }

  async metrics(record: { step: number } & Record<string, number>): Promise<void> {
    const { out } = this.config;
    const { step, ...rest } = record;
    await writing(
      `${out}/metrics.jsonl`,
      () => appendMetrics(out, { step, wallTimeS: round(this.wallTimeS(), 2), ...rest }),
    );
  }

  /** The (averaged) generator as trained for `step` steps, saved into `dir`. */
  #saveModel(dir: string, step: number): Promise<GeneratorMetadata> {
    return saveGenerator(dir, this.gan.averagedGenerator(), {
      ...generatorMetadata(this.config, this.gan, this.config.out),
      steps: step,
      wallTimeS: round(this.wallTimeS(), 1),
      backend: this.backend.name,
    });
  }

  async generator(step: number): Promise<GeneratorMetadata> {
    const { out } = this.config;
    return await writing(`the generator in ${out}`, () => this.#saveModel(out, step));
  }

  async snapshot(step: number): Promise<void> {
    const dir = `${this.config.out}/snapshots/step-${String(step).padStart(7, "0")}`;
    await writing(dir, () => this.#saveModel(dir, step));
  }

  /** Writes the checkpoint for `step`; returns the step (the last good checkpoint). */
  async checkpoint(step: number): Promise<number> {
    const { config, gan } = this;
    await writing(`the checkpoint ${checkpointPath(config.out)}`, () =>
      saveCheckpoint(config.out, {
        step,
        wallTimeS: this.wallTimeS(),
        config,
        rng: {
          algorithm: `${LATENT_SAMPLER}; every draw seeded by (seed, step, purpose)`,
          seed: config.seed,
          step,
        },
      }, gan.stateTensors()));
    return step;
  }

  /**
   * A sample grid (MNIST) or scatter plot (2-D): the same as GET /sample?n=64&seed=<seed> on
   * the saved model (labels, if any, drawn from the seed like every served sample).
   */
  async samples(step: number): Promise<void> {
    const { config, gan } = this;
    const { out } = config;
    const spec = { size: config.latent, classes: gan.classes, weights: gan.data.clusters?.weights };
    const name = `${out}/samples/step-${String(step).padStart(7, "0")}.png`;
    await writing(`${out}/samples`, () => Deno.mkdir(`${out}/samples`, { recursive: true }));
    const png = DATASET_SPECS[config.dataset].kind === "images"
      ? digitGridPng(generate(gan.averagedGenerator(), spec, config.seed, SAMPLE_GRID), SAMPLE_GRID)
      : scatterPng(
        generate(gan.averagedGenerator(), spec, config.seed, SCATTER_POINTS),
        MIXTURES[config.dataset],
      );
    await writing(name, () => writeFileAtomic(name, png));
  }
}

/**
 * Remembers the first SIGINT or SIGTERM (when `enabled`), so the loop can stop at a step's end.
 * `signalAfterStep` lets the handlers run: a macrotask turn every ~200 ms costs nothing
 * measurable.
 */
function listenForStop(enabled: boolean) {
  let received: Deno.Signal | undefined;
  let lastYield = performance.now();
  const listeners = enabled
    ? (["SIGINT", "SIGTERM"] as const).map((s) => [s, () => received ??= s] as const)
    : [];
  for (const [s, fn] of listeners) Deno.addSignalListener(s, fn);
  return {
    signalAfterStep: async (): Promise<Deno.Signal | undefined> => {
      if (performance.now() - lastYield > 200) {
        await new Promise((resolve) => setTimeout(resolve, 0));
        lastYield = performance.now();
      }
      return received;
    },
    dispose: () => listeners.forEach(([s, fn]) => Deno.removeSignalListener(s, fn)),
  };
}

/** Mean losses and speed over the steps since the last progress record. */
class IntervalStats {
  #steps = 0;
  #start = performance.now();
  #sum: StepStats = { dLoss: 0, gLoss: 0, dReal: 0, dFake: 0 };

  add(stats: StepStats): void {
    for (const k of Object.keys(this.#sum) as (keyof StepStats)[]) this.#sum[k] += stats[k];
    this.#steps += 1;
  }

  stepsPerS(now: number): number {
    return (this.#steps * 1000) / Math.max(1e-9, now - this.#start);
  }

  mean(): StepStats {
    const n = this.#steps;
    const s = this.#sum;
    return { dLoss: s.dLoss / n, gLoss: s.gLoss / n, dReal: s.dReal / n, dFake: s.dFake / n };
  }

  reset(now: number): void {
    this.#steps = 0;
    this.#start = now;
    this.#sum = { dLoss: 0, gLoss: 0, dReal: 0, dFake: 0 };
  }
}

/** What the saved generator's metadata says of its training (all but steps, time, backend). */
function generatorMetadata(config: TrainConfig, gan: Gan, out: string) {
  const dataset = DATASET_SPECS[config.dataset];
  return {
    name: basename(out),
    dataset: config.dataset,
    outputShape: dataset.outputShape,
    outputRange: dataset.outputRange,
    latentSize: config.latent,
    dropout: {
      generator: metadataRate(config.gDropout),
      discriminator: metadataRate(config.dDropout),
    },
    ...(config.ema > 0 ? { ema: { decay: config.ema } } : {}),
    ...(config.conditional ? { labels: Array.from({ length: gan.classes }, (_, i) => i) } : {}),
    ...(gan.data.clusters
      ? { clusters: { count: gan.classes, weights: gan.data.clusters.weights } }
      : {}),
    hyperparameters: hyperparameters(config),
    seed: config.seed,
  };
}

/**
 * Runs a write, turning a file-system failure (disk full, permissions) into a `TrainingError`
 * that names what could not be written. Earlier files are intact: every write is atomic.
 */
async function writing<T>(what: string, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (err) {
    const ioError = Object.values(Deno.errors).some((E) => err instanceof E) ||
      typeof (err as { code?: unknown }).code === "string";
    if (ioError) {
      throw new TrainingError(
        `cannot write ${what}: ${(err as Error).message}; earlier files are intact`,
      );
    }
    throw err;
  }
}

/** The checkpoint's config with the few changes a resumed run may make. */
export function resumedConfig(
  saved: TrainConfig,
  cli: TrainConfig,
  explicit: ReadonlySet<keyof TrainConfig>,
): TrainConfig {
  // Checkpoints from before a flag existed hold no value for it: the default applies.
  const merged = { ...DEFAULTS, ...BEFORE_THE_FLAG, ...saved, resume: true, out: cli.out };
  for (const key of explicit) {
    const same = JSON.stringify(merged[key]) === JSON.stringify(cli[key]);
    if (RESUMABLE_CHANGES.has(key)) {
      (merged as Record<string, unknown>)[key] = cli[key];
    } else if (!same) {
      const flag = Object.entries(FLAGS).find(([, spec]) => spec.key === key)?.[0] ?? key;
      throw new UsageError(
        `--${flag}: ${JSON.stringify(cli[key])} differs from the checkpoint's ${
          JSON.stringify(merged[key])
        }; a resumed run keeps its training flags (only --steps and the --*-every flags may change)`,
      );
    }
  }
  if (merged.steps < 1) merged.steps = saved.steps;
  // A schedule spans the run's length: a longer run would change every rate already used, so
  // the result would match no uninterrupted run.
  const schedule = [
    typeof merged.gDropout === "object" ? `--g-dropout ${formatRate(merged.gDropout)}` : "",
    typeof merged.dDropout === "object" ? `--d-dropout ${formatRate(merged.dDropout)}` : "",
    typeof merged.gTopK === "object" ? `--g-top-k ${formatRate(merged.gTopK)}` : "",
    merged.lrDecay !== "none" ? `--lr-decay ${merged.lrDecay}` : "",
  ].filter(Boolean);
  if (merged.steps !== saved.steps && schedule.length) {
    throw new UsageError(
      `--steps: ${merged.steps} differs from the checkpoint's ${saved.steps}; a run with a schedule (${
        schedule.join(", ")
      }) keeps its length on resume`,
    );
  }
  return merged;
}

/** A constant rate as a number (as models have always recorded it), a schedule as `0.5:0`. */
function metadataRate(rate: DropoutRate): number | string {
  return typeof rate === "number" ? rate : formatRate(rate);
}

function hyperparameters(config: TrainConfig): Record<string, unknown> {
  const { out: _out, resume: _resume, overwrite: _overwrite, ...rest } = config;
  return rest;
}

function describeConfig(config: TrainConfig): string {
  const rows = Object.entries(FLAGS).map(([name, spec]) => {
    const value = config[spec.key];
    return `  --${name.padEnd(17)}${formatValue(value)}`;
  });
  return [
    "edgegan train: resolved configuration",
    ...rows,
    `  --${"resume".padEnd(17)}${config.resume}`,
  ].join("\n");
}

async function prepareOut(out: string): Promise<void> {
  try {
    await Deno.mkdir(out, { recursive: true });
    const probe = `${out}/.write-test`;
    await writeFileAtomic(probe, new Uint8Array([1]));
    await Deno.remove(probe);
    await removeStaleTemps(out);
    await removeStaleTemps(`${out}/checkpoint`);
  } catch (err) {
    throw new TrainingError(`--out: cannot write to ${out} (${(err as Error).message})`);
  }
}

/** Bytes a run writes at its peak: two checkpoints during a rename, two models, samples. */
export function bytesNeeded(config: TrainConfig): number {
  const outDim = DATASET_SPECS[config.dataset].dim;
  const params = (dims: number[]) =>
    dims.slice(0, -1).reduce((s, n, i) => s + (n + 1) * dims[i + 1], 0);
  const g = params([config.latent, ...config.gHidden, outDim]);
  const d = params([outDim, ...config.dHidden, 1]);
  const checkpoint = 4 * 3 * (g + d);
  return 2 * checkpoint + 2 * 4 * g + 16 * 1024 * 1024;
}

/** Fails before training when the disk holding `out` cannot take the run's files. */
function checkFreeSpace(out: string, config: TrainConfig): void {
  let free: number;
  try {
    const fs = statfsSync(out);
    free = fs.bavail * fs.bsize;
  } catch {
    return; // No statfs here (e.g. not permitted): the atomic writes still protect the files.
  }
  const needed = bytesNeeded(config);
  if (free < needed) {
    throw new TrainingError(
      `--out: only ${
        (free / 2 ** 20).toFixed(1)
      } MiB free on the disk holding ${out}; this run needs about ${
        (needed / 2 ** 20).toFixed(1)
      } MiB`,
    );
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

/** Starts metrics.jsonl afresh, or on resume drops records past the checkpoint's step. */
async function resetMetrics(out: string, keepThrough: number): Promise<void> {
  const path = `${out}/metrics.jsonl`;
  let kept = "";
  if (keepThrough > 0) {
    const text = await Deno.readTextFile(path).catch(() => "");
    kept = text.split("\n").filter((line) => {
      try {
        return line.trim() !== "" && JSON.parse(line).step <= keepThrough;
      } catch {
        return false;
      }
    }).map((line) => line + "\n").join("");
  }
  await writeFileAtomic(path, new TextEncoder().encode(kept));
}

async function appendMetrics(out: string, record: Record<string, number>): Promise<void> {
  await Deno.writeTextFile(`${out}/metrics.jsonl`, JSON.stringify(record) + "\n", { append: true });
}

function nonFinite(stats: StepStats): string | undefined {
  const names: Record<keyof StepStats, string> = {
    dLoss: "D loss",
    gLoss: "G loss",
    dReal: "D(x)",
    dFake: "D(G(z))",
  };
  for (const [key, name] of Object.entries(names)) {
    const v = stats[key as keyof StepStats];
    if (!Number.isFinite(v)) return `${name} is ${v}`;
  }
  return undefined;
}

function onOff(flag: boolean): string {
  return flag ? "on" : "off";
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

function roundAll(stats: StepStats): Record<string, number> {
  return Object.fromEntries(Object.entries(stats).map(([k, v]) => [k, round(v, 5)]));
}
