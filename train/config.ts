/**
 * The training configuration: every default in one place, read by the CLI (`--help`,
 * validation), the trainer, the saved metadata and the tests.
 *
 * ```ts
 * const { config } = parseTrainArgs(["--dataset", "ring8", "--steps", "500"]);
 * ```
 */
import { type FlagTable as CliTable, parseFlags, UsageError } from "../cli/flags.ts";
import { normalize } from "node:path";
import { BACKENDS } from "../tfjs/backend.ts";
import { DATASET_SPECS, type DatasetName, DATASETS } from "../datasets/specs.ts";

export const LR_DECAYS = ["none", "linear"] as const;
export type LrDecay = typeof LR_DECAYS[number];

export const RATE_CURVES = ["linear", "cosine"] as const;
export type RateCurve = typeof RATE_CURVES[number];

/**
 * A value over the run (a dropout rate, the top-k fraction): a constant, or `start` at step 0
 * changing to `end` at the last step along `curve` (written `0.5:0` or `0.5:0:cosine` on the
 * command line).
 */
export type Schedule = number | { start: number; end: number; curve: RateCurve };
export type DropoutRate = Schedule;

/** The rate of `rate` at step `step` (0-based) of a `steps`-step run. */
export function rateAt(rate: DropoutRate, step: number, steps: number): number {
  if (typeof rate === "number") return rate;
  const t = Math.min(1, step / Math.max(1, steps));
  const along = rate.curve === "cosine" ? (1 - Math.cos(Math.PI * t)) / 2 : t;
  return rate.start + (rate.end - rate.start) * along;
}

/** The highest rate a schedule reaches (0 means the net has no Dropout layers at all). */
export function peakRate(rate: DropoutRate): number {
  return typeof rate === "number" ? rate : Math.max(rate.start, rate.end);
}

/** The command-line form of a rate: `0.5`, `0.5:0` or `0.5:0:cosine`. */
export function formatRate(rate: DropoutRate): string {
  if (typeof rate === "number") return String(rate);
  return `${rate.start}:${rate.end}${rate.curve === "linear" ? "" : `:${rate.curve}`}`;
}

export const ENGINES = ["auto", "tfjs", "fused"] as const;
export type Engine = typeof ENGINES[number];

/** Why the fused step cannot train `config` (a short phrase), or undefined when it can. */
export function fusedUnsupported(config: ModelConfig): string | undefined {
  if ((config.auxClassifier ?? 0) > 0) return "--aux-classifier";
  if (config.gTopK !== 1) return "--g-top-k";
  return undefined;
}

/**
 * One setting: its config key, default, what the flag accepts and its parser. A model setting
 * shapes the trained generator (and must match on resume, except `steps`); a run setting only
 * says where and how a run is carried out.
 */
export interface Flag<K extends string, T, Kind extends "model" | "run" = "model" | "run"> {
  key: K;
  default: T;
  kind: Kind;
  /** What the flag accepts, as shown in errors and --help. */
  accepts: string;
  help: string;
  parse(value: string): T | undefined;
}

/** A flag whose value type comes from its parser. */
function flag<K extends string, T, Kind extends "model" | "run">(
  spec: Flag<K, NoInfer<T>, Kind> & { parse(v: string): T | undefined },
): Flag<K, T, Kind> {
  return spec;
}

function int(min: number, max: number) {
  return (v: string) => {
    if (!/^\d+$/.test(v.trim())) return undefined;
    const n = Number(v);
    return n >= min && n <= max ? n : undefined;
  };
}

function real(min: number, max: number, openMin: boolean, openMax: boolean) {
  return (v: string) => {
    if (v.trim() === "" || !/^[0-9.eE+-]+$/.test(v.trim())) return undefined;
    const n = Number(v);
    if (!Number.isFinite(n)) return undefined;
    if (openMin ? n <= min : n < min) return undefined;
    if (openMax ? n >= max : n > max) return undefined;
    return n;
  };
}

/** A constant or `START:END[:curve]`, each value checked by `rate`. */
function schedule(rate: (v: string) => number | undefined) {
  return (v: string): Schedule | undefined => {
    const parts = v.split(":");
    if (parts.length === 1) return rate(v);
    if (parts.length > 3) return undefined;
    const [start, end] = parts.slice(0, 2).map(rate);
    const curve = parts.length === 3 ? oneOf(RATE_CURVES)(parts[2]) : "linear";
    if (start === undefined || end === undefined || curve === undefined) return undefined;
    return start === end ? start : { start, end, curve };
  };
}

const dropoutRate = schedule(real(0, 1, false, true));

function hiddenList(v: string) {
  const parts = v.split(",");
  if (parts.length < 1 || parts.length > 8) return undefined;
  const sizes = parts.map((p) => int(1, 4096)(p));
  return sizes.every((s) => s !== undefined) ? sizes as number[] : undefined;
}

function oneOf<T extends string>(choices: readonly T[]) {
  return (v: string) => (choices as readonly string[]).includes(v) ? v as T : undefined;
}

/**
 * Flag name (without --) to its spec, in --help order: the one declaration of every setting.
 * `TrainConfig`, `DEFAULTS`, `--help` and the README's flag table all derive from it.
 */
export const FLAGS = {
  "dataset": flag({
    key: "dataset",
    default: "mnist",
    kind: "model",
    accepts: DATASETS.join(" | "),
    help: "training data: MNIST digits or a PacGAN 2-D mixture",
    parse: oneOf(DATASETS),
  }),
  "steps": flag({
    key: "steps",
    default: 50_000,
    kind: "model",
    accepts: "an integer 1..10000000",
    help: "training steps (one D and one G update each)",
    parse: int(1, 10_000_000),
  }),
  "batch": flag({
    key: "batch",
    default: 64,
    kind: "model",
    accepts: "an integer 1..4096",
    help: "batch size",
    parse: int(1, 4096),
  }),
  "latent": flag({
    key: "latent",
    default: 100,
    kind: "model",
    accepts: "an integer 1..1024",
    help: "latent (noise) size",
    parse: int(1, 1024),
  }),
  "g-hidden": flag({
    key: "gHidden",
    default: [512, 512],
    kind: "model",
    accepts: "1-8 comma-separated integers 1..4096, e.g. 256,256",
    help: "generator hidden layer sizes",
    parse: hiddenList,
  }),
  "d-hidden": flag({
    key: "dHidden",
    default: [512, 256],
    kind: "model",
    accepts: "1-8 comma-separated integers 1..4096, e.g. 256,256",
    help: "discriminator hidden layer sizes",
    parse: hiddenList,
  }),
  "g-dropout": flag({
    key: "gDropout",
    default: { start: 0.5, end: 0, curve: "linear" },
    kind: "model",
    accepts: "a rate in [0, 1), or START:END[:linear|cosine] changing over the run, e.g. 0.5:0",
    help: "dropout rate after each generator hidden layer (0 = none)",
    parse: dropoutRate,
  }),
  "d-dropout": flag({
    key: "dDropout",
    default: { start: 0.25, end: 0, curve: "linear" },
    kind: "model",
    accepts: "a rate in [0, 1), or START:END[:linear|cosine] changing over the run, e.g. 0.5:0.1",
    help: "dropout rate after each discriminator hidden layer (0 = none)",
    parse: dropoutRate,
  }),
  // The moving average of G's weights (Yazici et al. 2019): the saved generator and the sample
  // grids are the average; 0 saves the raw G.
  "ema": flag({
    key: "ema",
    default: 0.999,
    kind: "model",
    accepts: "a number in [0, 1), e.g. 0.999 (0 = off)",
    help: "keep a moving average of G's weights with this decay; save and sample the average",
    parse: real(0, 1, false, true),
  }),
  // Dropout-GAN (Mordido et al. 2018): K discriminators, each one's feedback to G dropped with
  // probability --d-ensemble-drop per step, at least one kept.
  "d-ensemble": flag({
    key: "dEnsemble",
    default: 1,
    kind: "model",
    accepts: "an integer 1..8",
    help: "Dropout-GAN: train this many discriminators (1 = a plain GAN)",
    parse: int(1, 8),
  }),
  "d-ensemble-drop": flag({
    key: "dEnsembleDrop",
    default: 0,
    kind: "model",
    accepts: "a number in [0, 1)",
    help: "Dropout-GAN: chance that a discriminator's feedback to G is dropped in a step",
    parse: real(0, 1, false, true),
  }),
  // One-sided label smoothing (0.9 is the usual).
  "real-target": flag({
    key: "realTarget",
    default: 1,
    kind: "model",
    accepts: "a number in (0.5, 1]",
    help: "D's target for real samples (one-sided label smoothing; 1 = none)",
    parse: real(0.5, 1, true, false),
  }),
  // Top-k generator updates (Sinha et al. 2020).
  "g-top-k": flag({
    key: "gTopK",
    default: 1,
    kind: "model",
    accepts: "a fraction in (0, 1], or START:END[:linear|cosine] changing over the run, e.g. 1:0.5",
    help: "train G on this fraction of each fake batch, the samples D rates most real (top-k)",
    parse: schedule(real(0, 1, true, false)),
  }),
  // Self-conditioned GAN (Liu et al. 2020): k-means clusters of the images play the labels' part.
  // 100 clusters are 84% pure by digit (50: 79%) and scored better at 50,000 steps (docs/study-mnist.md).
  "self-condition": flag({
    key: "selfCondition",
    default: 100,
    kind: "model",
    accepts: "an integer 0..200 (0 = off), 2 or more clusters",
    help: "condition G and D on this many k-means clusters of the data, no labels (default 100 " +
      "for unconditional MNIST, else 0)",
    parse: (v) => {
      const clusters = int(0, 200)(v);
      return clusters === 1 ? undefined : clusters; // one cluster conditions on nothing
    },
  }),
  // AC-GAN (Odena et al. 2017): D reads the image alone and names its digit (or its k-means
  // cluster, with --self-condition) with a head trained on real images; G is also trained so D
  // names the asked one. The value weighs that class loss beside the adversarial one.
  "aux-classifier": flag({
    key: "auxClassifier",
    default: 0,
    kind: "model",
    accepts: "a number in [0, 10] (0 = off); needs --conditional or --self-condition",
    help:
      "AC-GAN: D names the digit or cluster, G is trained so D names the asked one (1 with --conditional)",
    parse: real(0, 10, false, false),
  }),
  "lr": flag({
    key: "lr",
    default: 2e-4,
    kind: "model",
    accepts: "a number in (0, 1]",
    help: "Adam learning rate (both nets)",
    parse: real(0, 1, true, false),
  }),
  "lr-decay": flag({
    key: "lrDecay",
    default: "none",
    kind: "model",
    accepts: LR_DECAYS.join(" | "),
    help: "learning-rate schedule: constant, or linear to 0 at the last step",
    parse: oneOf(LR_DECAYS),
  }),
  "beta1": flag({
    key: "beta1",
    default: 0.5,
    kind: "model",
    accepts: "a number in [0, 1)",
    help: "Adam beta1 (both nets)",
    parse: real(0, 1, false, true),
  }),
  // PacGAN (Lin et al. 2018): D judges this many samples concatenated into one input.
  "pack": flag({
    key: "pack",
    default: 1,
    kind: "model",
    accepts: "an integer 1..8",
    help: "PacGAN packing: D judges this many samples at once (1 = plain GAN)",
    parse: int(1, 8),
  }),
  "seed": flag({
    key: "seed",
    default: 1,
    kind: "model",
    accepts: "an integer 0..4294967295",
    help: "seed for weights, batches, noise and dropout masks",
    parse: int(0, 0xffffffff),
  }),
  // Always under models/; "" means models/<dataset> (models/mnist-cond with --conditional).
  "out": flag({
    key: "out",
    default: "",
    kind: "run",
    accepts: "a folder under models/, e.g. models/mnist",
    help: "output folder for the model, samples, metrics and checkpoint",
    parse: (v) => {
      const p = normalize(v).replace(/\/+$/, "");
      return /^models\/[\w.-]+(\/[\w.-]+)*$/.test(p) && !p.split("/").includes("..")
        ? p
        : undefined;
    },
  }),
  "sample-every": flag({
    key: "sampleEvery",
    default: 1000,
    kind: "run",
    accepts: "an integer 0..10000000 (0 = only at the end)",
    help: "write a sample grid every N steps",
    parse: int(0, 10_000_000),
  }),
  "snapshot-every": flag({
    key: "snapshotEvery",
    default: 0,
    kind: "run",
    accepts: "an integer 0..10000000 (0 = never)",
    help: "also save the generator to <out>/snapshots/step-N every N steps (quality vs steps)",
    parse: int(0, 10_000_000),
  }),
  "checkpoint-every": flag({
    key: "checkpointEvery",
    default: 1000,
    kind: "run",
    accepts: "an integer 0..10000000 (0 = only at the end)",
    help: "write a checkpoint every N steps",
    parse: int(0, 10_000_000),
  }),
  "log-every": flag({
    key: "logEvery",
    default: 100,
    kind: "run",
    accepts: "an integer 1..10000000",
    help: "progress line and metrics.jsonl record every N steps",
    parse: int(1, 10_000_000),
  }),
  // tfjs ops, or the fused WASM step of train/fused.ts (unconditional nets, one D, no top-k;
  // equal to tfjs to float rounding); auto = fused for the 2-D mixtures, where it is faster.
  "engine": flag({
    key: "engine",
    default: "auto",
    kind: "run",
    accepts: ENGINES.join(" | "),
    help: "what computes a step: tfjs ops, or the fused WASM step (auto: fused for 2-D data)",
    parse: oneOf(ENGINES),
  }),
  "backend": flag({
    key: "backend",
    default: "wasm",
    kind: "run",
    accepts: BACKENDS.join(" | "),
    help: "tfjs backend (wasm = WASM SIMD)",
    parse: oneOf(BACKENDS),
  }),
};

type FlagTable = typeof FLAGS;

/**
 * The switches: flags without a value, off unless given. `conditional` shapes the model; the
 * others say how the run treats what `--out` already holds.
 */
export const SWITCHES = {
  conditional: "class-conditional GAN on MNIST digits: G and D also get the digit",
  resume: "continue from `<out>/checkpoint/` (same flags; --steps may grow)",
  overwrite:
    "start afresh in an --out holding a saved model or a checkpoint: the checkpoint goes at once, the model at the end",
} as const;
export type SwitchName = keyof typeof SWITCHES;

/** The settings, one per flag (named by `key`), plus the switches. */
export type TrainConfig =
  & { -readonly [F in keyof FlagTable as FlagTable[F]["key"]]: FlagTable[F]["default"] }
  & Record<SwitchName, boolean>;

/**
 * The settings that define what is trained (the nets, the data, the losses, the schedule): what
 * the GAN itself reads. The rest (where to write, how often to report, what computes a step)
 * belongs to the run.
 */
export type ModelConfig = Pick<
  TrainConfig,
  | { [F in keyof FlagTable]: FlagTable[F]["kind"] extends "model" ? FlagTable[F]["key"] : never }[
    keyof FlagTable
  ]
  | "conditional"
>;

/** Every flag by name, for look-ups by a name read from the command line or a recipe. */
export const FLAG_LIST: Record<string, Flag<keyof TrainConfig & string, unknown>> = FLAGS;

/** The defaults, from the flag table; `out` ("") is derived from the dataset when not given. */
export const DEFAULTS: Omit<TrainConfig, "out"> = {
  ...Object.fromEntries(
    Object.values(FLAG_LIST).filter((f) => f.key !== "out").map((f) => [f.key, f.default]),
  ),
  ...Object.fromEntries(Object.keys(SWITCHES).map((name) => [name, false])),
} as Omit<TrainConfig, "out">;

/**
 * What a flag added after the first checkpoints meant when it did not exist yet: off. A
 * checkpoint that lacks the key resumes with this, not with today's default.
 */
export const BEFORE_THE_FLAG: Partial<TrainConfig> = {
  ema: 0,
  dEnsemble: 1,
  dEnsembleDrop: 0,
  realTarget: 1,
  gTopK: 1,
  selfCondition: 0,
  auxClassifier: 0,
  engine: "tfjs",
  snapshotEvery: 0,
};

export function defaultOut(dataset: DatasetName, conditional = false): string {
  return `models/${dataset}${conditional ? "-cond" : ""}`;
}

export function formatValue(value: unknown): string {
  if (Array.isArray(value)) return value.join(",");
  if (typeof value === "object" && value !== null) return formatRate(value as DropoutRate);
  return String(value);
}

export function helpText(): string {
  const lines = [
    "Train a dropout GAN and save its generator in the tfjs Layers format.",
    "",
    "Usage: deno task train [flags]",
    "",
    "Flags:",
  ];
  for (const [name, spec] of Object.entries(FLAGS)) {
    const def = spec.key === "out"
      ? "models/<dataset>"
      : formatValue(DEFAULTS[spec.key as keyof typeof DEFAULTS]);
    lines.push(
      `  --${name.padEnd(18)}${spec.help}`,
      `  ${"".padEnd(20)}default ${def}; accepts ${spec.accepts}`,
    );
  }
  lines.push(
    `  --${"recipe".padEnd(18)}start from a named setup in recipes/ (${
      recipeNames().join(", ")
    }); later flags override it`,
    ...Object.entries(SWITCHES).map(([name, help]) =>
      `  --${name.padEnd(18)}${help.replaceAll("`", "")}`
    ),
  );
  lines.push(`  --${"help".padEnd(18)}show this help`);
  return lines.join("\n");
}

export interface ParsedArgs {
  config: TrainConfig;
  /** Config keys given explicitly on the command line. */
  explicit: Set<keyof TrainConfig>;
  help: boolean;
}

/** Parses and validates the command line; throws `UsageError` with one line on bad input. */
export function parseTrainArgs(argv: string[]): ParsedArgs {
  const table: CliTable = {};
  for (const [name, spec] of Object.entries(FLAGS)) {
    table[name] = { type: "string", accepts: spec.accepts };
  }
  table.recipe = { type: "string", accepts: "a recipe name (recipes/NAME.json)" };
  for (const name of [...Object.keys(SWITCHES), "help"]) {
    table[name] = { type: "boolean", accepts: "no value" };
  }
  const values = parseFlags(argv, table) as Record<string, string | boolean | undefined>;
  const config = { ...structuredClone(DEFAULTS), out: "" } as TrainConfig;
  const explicit = new Set<keyof TrainConfig>();
  const apply = (flags: Record<string, unknown>, where: (name: string) => string) => {
    for (const [name, spec] of Object.entries(FLAGS)) {
      const raw = flags[name];
      if (raw === undefined) continue;
      const parsed = spec.parse(String(raw));
      if (parsed === undefined) {
        throw new UsageError(`${where(name)}: got ${JSON.stringify(raw)}; accepts ${spec.accepts}`);
      }
      (config as unknown as Record<string, unknown>)[spec.key] = parsed;
      explicit.add(spec.key);
    }
  };
  // A recipe's flags first, then the command line's, which win.
  if (typeof values.recipe === "string") {
    const recipe = readRecipe(values.recipe);
    apply(recipe.flags, (name) => `--recipe ${values.recipe}: ${name}`);
  }
  apply(values, (name) => `--${name}`);
  for (const name of Object.keys(SWITCHES) as SwitchName[]) {
    if (!values[name]) continue;
    config[name] = true;
    explicit.add(name);
  }
  if (config.conditional && DATASET_SPECS[config.dataset].kind !== "images") {
    throw new UsageError(`--conditional: needs --dataset mnist (got ${config.dataset})`);
  }
  if (config.resume && config.overwrite) {
    throw new UsageError("--overwrite: starts a run afresh; it cannot go with --resume");
  }
  // The default's self-conditioning is for unconditional MNIST; elsewhere it is off unless asked.
  const images = DATASET_SPECS[config.dataset].kind === "images";
  if (!explicit.has("selfCondition") && (!images || config.conditional)) {
    config.selfCondition = 0;
  }
  // A conditional GAN gets the auxiliary classifier unless told otherwise: with it, 99%+ of the
  // samples asked for a digit are that digit (without: 91.5-99.8% per digit).
  if (!explicit.has("auxClassifier") && config.conditional) config.auxClassifier = 1;
  if (config.selfCondition > 0 && config.conditional) {
    throw new UsageError("--self-condition: needs an unconditional GAN (got --conditional)");
  }
  const labelled = config.conditional || config.selfCondition > 0;
  if (config.auxClassifier > 0 && (!labelled || config.pack > 1)) {
    throw new UsageError(
      `--aux-classifier: needs --conditional or --self-condition, and --pack 1 (got ${
        labelled ? `--pack ${config.pack}` : "neither"
      })`,
    );
  }
  const unfused = fusedUnsupported(config);
  if (config.engine === "fused" && unfused) {
    throw new UsageError(`--engine: fused does not support ${unfused}; use tfjs or auto`);
  }
  if (explicit.has("dEnsembleDrop") && config.dEnsemble < 2) {
    throw new UsageError(
      `--d-ensemble-drop: needs --d-ensemble 2 or more (got ${config.dEnsemble})`,
    );
  }
  if (!config.out) config.out = defaultOut(config.dataset, config.conditional);
  return { config, explicit, help: values.help === true };
}

/** Named setups: `recipes/NAME.json` holds a description and flag values as on the command line. */
export interface Recipe {
  description: string;
  flags: Record<string, string>;
}

const RECIPES = new URL("../recipes/", import.meta.url);

/** The recipe names in recipes/, sorted. */
export function recipeNames(): string[] {
  try {
    return [...Deno.readDirSync(RECIPES)].filter((e) => e.name.endsWith(".json"))
      .map((e) => e.name.slice(0, -5)).sort();
  } catch {
    return [];
  }
}

export function readRecipe(name: string): Recipe {
  const known = recipeNames();
  if (!known.includes(name)) {
    throw new UsageError(`--recipe: got ${JSON.stringify(name)}; accepts ${known.join(" | ")}`);
  }
  const recipe = JSON.parse(Deno.readTextFileSync(new URL(`${name}.json`, RECIPES))) as Recipe;
  const unknown = Object.keys(recipe.flags).filter((f) => !FLAG_LIST[f]);
  if (unknown.length) {
    throw new UsageError(`--recipe ${name}: recipes/${name}.json sets unknown flag ${unknown[0]}`);
  }
  return recipe;
}

/**
 * The config keys a resumed run may change: the run settings, and `steps` (a longer run). The
 * model settings must match the checkpoint, and so must `engine` and `backend`, which change
 * float rounding: the resumed run would no longer equal an uninterrupted one.
 */
export const RESUMABLE_CHANGES: ReadonlySet<keyof TrainConfig> = new Set<keyof TrainConfig>([
  "steps",
  "resume",
  ...Object.values(FLAG_LIST)
    .filter((f) => f.kind === "run" && f.key !== "engine" && f.key !== "backend")
    .map((f) => f.key),
]);
