/**
 * The training run: set-up, the step loop with progress, samples, metrics and checkpoints,
 * signal handling, and the saved generator at the end.
 */
import { statfsSync } from "node:fs";
import { basename } from "node:path";
import { type BackendInfo, initBackend } from "../engine/backend.ts";
import { generate, saveGenerator } from "../format/generator.ts";
import type { GeneratorMetadata } from "../format/generator_format.ts";
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
  const out = cliConfig.out;
  await prepareOut(out);

  let config = cliConfig;
  let startStep = 0;
  let priorWallTimeS = 0;
  const checkpoint = config.resume ? await loadCheckpoint(out) : undefined;
  if (checkpoint) {
    config = resumedConfig(checkpoint.config, cliConfig, explicit);
    startStep = checkpoint.step;
    priorWallTimeS = checkpoint.wallTimeS;
  } else if (await exists(checkpointPath(out))) {
    throw new UsageError(
      `--out: ${out} holds a checkpoint from an earlier run; pass --resume to continue it or choose another --out`,
    );
  }

  // A fresh run records the engine `auto` chose, so a resume continues with the same one.
  config = { ...config, engine: resolveEngine(config) };
  checkFreeSpace(out, config);
  const backend = await initBackend(config.backend);
  printer.line(describeConfig(config));
  printer.line(
    `backend: ${backend.name}${
      backend.name === "wasm"
        ? ` (SIMD ${onOff(backend.simd)}, threads ${onOff(backend.threads)})`
        : ""
    }, tfjs ${backend.tfjsVersion}`,
  );
  const dataset = DATASET_SPECS[config.dataset];
  const mnist = dataset.kind === "images" ? await loadMnist("train") : undefined;
  printer.line(
    mnist
      ? `data: MNIST train, ${mnist.count} images 28x28, pixels scaled to [-1, 1]`
      : `data: ${config.dataset}, ${MIXTURES[config.dataset].modes.length} Gaussian modes, std ${
        MIXTURES[config.dataset].std
      }`,
  );
  if (checkpoint) printer.line(`resuming from step ${startStep} (${checkpointPath(out)})`);
  if (config.selfCondition > 0) {
    printer.line(`self-conditioning: k-means of the data into ${config.selfCondition} clusters`);
  }

  const gan = createGan(config, new RealData(config, mnist));
  try {
    if (checkpoint) gan.restore(startStep, checkpoint.tensors);
    await resetMetrics(out, startStep);

    const stop = listenForStop(options.handleSignals ?? true);
    const started = performance.now();
    const wallTime = () => priorWallTimeS + (performance.now() - started) / 1000;
    /** Saves the (averaged) generator as trained for `step` steps into `dir`. */
    const saveModel = (dir: string, step: number) =>
      saveGenerator(dir, gan.averagedGenerator(), {
        ...generatorMetadata(config, gan, out),
        steps: step,
        wallTimeS: round(wallTime(), 1),
        backend: backend.name,
      });
    const writeCheckpoint = (step: number) =>
      writing(`the checkpoint ${checkpointPath(out)}`, () =>
        saveCheckpoint(out, {
          step,
          wallTimeS: wallTime(),
          config,
          rng: {
            algorithm: `${LATENT_SAMPLER}; every draw seeded by (seed, step, purpose)`,
            seed: config.seed,
            step,
          },
        }, gan.stateTensors()));

    let step = startStep;
    let lastGood = checkpoint ? startStep : undefined;
    const interval = new IntervalStats();
    let lastYield = performance.now();
    try {
      while (step < config.steps) {
        options.beforeStep?.(gan, step);
        const stats = gan.step(step);
        step += 1;
        const bad = nonFinite(stats);
        if (bad) {
          throw new TrainingError(
            `training diverged at step ${step}: ${bad}; ` +
              (lastGood === undefined
                ? "no checkpoint was written yet"
                : `the last good checkpoint (step ${lastGood}) is kept in ${checkpointPath(out)}`) +
              "; try a lower --lr",
          );
        }
        interval.add(stats);
        const now = performance.now();
        const stepsPerS = interval.stepsPerS(now);
        if (step % config.logEvery === 0 || step === config.steps) {
          const mean = interval.mean();
          printer.record({ step, steps: config.steps, stepsPerS, ...mean });
          await writing(`${out}/metrics.jsonl`, () =>
            appendMetrics(out, {
              step,
              wallTimeS: round(wallTime(), 2),
              stepsPerS: round(stepsPerS, 2),
              ...roundAll(mean),
            }));
          interval.reset(now);
        } else if (step % 10 === 0) {
          printer.update({ step, steps: config.steps, stepsPerS, ...stats });
        }
        if (config.sampleEvery > 0 && step % config.sampleEvery === 0) {
          await writeSamples(gan, step);
        }
        if (config.snapshotEvery > 0 && step % config.snapshotEvery === 0 && step < config.steps) {
          const dir = `${out}/snapshots/step-${String(step).padStart(7, "0")}`;
          await writing(dir, () => saveModel(dir, step));
        }
        if (config.checkpointEvery > 0 && step % config.checkpointEvery === 0) {
          await writeCheckpoint(step);
          lastGood = step;
        }
        // Let signal handlers run; a macrotask turn every ~200 ms costs nothing measurable.
        if (now - lastYield > 200) {
          await new Promise((resolve) => setTimeout(resolve, 0));
          lastYield = performance.now();
        }
        const signal = stop.signal();
        if (signal && step < config.steps) {
          await writeCheckpoint(step);
          printer.line(
            `${signal}: stopped at step ${step}; checkpoint saved to ${
              checkpointPath(out)
            }; continue with --resume`,
          );
          return { status: "interrupted", step, signal, backend };
        }
      }
    } finally {
      stop.dispose();
    }

    if (config.sampleEvery === 0 || step % config.sampleEvery !== 0) await writeSamples(gan, step);
    if (config.checkpointEvery === 0 || step % config.checkpointEvery !== 0) {
      await writeCheckpoint(step);
    }
    const metadata = await writing(`the generator in ${out}`, () => saveModel(out, step));
    const report = await writing(`${out}/report`, () => writeReport(out));
    printer.line(`training report: ${report.join(", ")}`);
    printer.line(
      `done: ${step} steps in ${
        formatDuration(wallTime())
      }; generator saved to ${out}/model.json (weights sha256 ${
        metadata.weightsSha256.slice(0, 12)
      }…)`,
    );
    return { status: "finished", step, metadata, backend };
  } finally {
    gan.dispose();
  }

  async function writeSamples(gan: Gan, step: number): Promise<void> {
    // The grid equals GET /sample?n=64&seed=<seed> on the saved model (labels, if any, drawn
    // from the seed like every served sample).
    const spec = { size: config.latent, classes: gan.classes, weights: gan.data.clusters?.weights };
    const name = `${out}/samples/step-${String(step).padStart(7, "0")}.png`;
    await writing(`${out}/samples`, () => Deno.mkdir(`${out}/samples`, { recursive: true }));
    const png = dataset.kind === "images"
      ? digitGridPng(generate(gan.averagedGenerator(), spec, config.seed, SAMPLE_GRID), SAMPLE_GRID)
      : scatterPng(
        generate(gan.averagedGenerator(), spec, config.seed, SCATTER_POINTS),
        MIXTURES[config.dataset],
      );
    await writing(name, () => writeFileAtomic(name, png));
  }
}

/** Remembers the first SIGINT or SIGTERM (when `enabled`), so the loop can stop at a step's end. */
function listenForStop(enabled: boolean) {
  let received: Deno.Signal | undefined;
  const listeners = enabled
    ? (["SIGINT", "SIGTERM"] as const).map((s) => [s, () => received ??= s] as const)
    : [];
  for (const [s, fn] of listeners) Deno.addSignalListener(s, fn);
  return {
    signal: () => received,
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
  const { out: _out, resume: _resume, ...rest } = config;
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
