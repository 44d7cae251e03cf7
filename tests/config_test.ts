import assert from "node:assert/strict";
import {
  DEFAULTS,
  FLAG_LIST,
  FLAGS,
  helpText,
  parseTrainArgs,
  rateAt,
  readRecipe,
  recipeNames,
  RESUMABLE_CHANGES,
  type TrainConfig,
} from "../train/config.ts";
import { UsageError } from "../cli/flags.ts";
import { resumedConfig } from "../train/loop.ts";
import { runDeno, taskArgs } from "./helpers.ts";

const TRAIN = taskArgs("train");

Deno.test("no flags give the documented defaults, with --out derived from the dataset", () => {
  const { config, explicit } = parseTrainArgs([]);
  assert.deepEqual(config, { ...DEFAULTS, out: "models/mnist" });
  assert.equal(explicit.size, 0);
  assert.equal(parseTrainArgs(["--dataset", "grid25"]).config.out, "models/grid25");
});

Deno.test("every flag parses its documented form", () => {
  const { config, explicit } = parseTrainArgs([
    "--dataset=ring8",
    "--steps",
    "10",
    "--batch",
    "32",
    "--latent",
    "2",
    "--g-hidden",
    "400,400,400",
    "--d-hidden",
    "200",
    "--g-dropout",
    "0",
    "--d-dropout",
    "0.5:0.1:cosine",
    "--ema",
    "0.999",
    "--d-ensemble",
    "2",
    "--d-ensemble-drop",
    "0.5",
    "--real-target",
    "0.9",
    "--g-top-k",
    "1:0.5",
    "--self-condition",
    "0",
    "--aux-classifier",
    "0",
    "--lr",
    "1e-3",
    "--lr-decay",
    "linear",
    "--pack",
    "4",
    "--beta1",
    "0.9",
    "--seed",
    "4294967295",
    "--out",
    "models/ring/",
    "--sample-every",
    "0",
    "--snapshot-every",
    "7",
    "--checkpoint-every",
    "5",
    "--log-every",
    "2",
    "--engine",
    "tfjs",
    "--backend",
    "cpu",
    "--resume",
  ]);
  assert.deepEqual(config, {
    dataset: "ring8",
    steps: 10,
    batch: 32,
    latent: 2,
    gHidden: [400, 400, 400],
    dHidden: [200],
    gDropout: 0,
    dDropout: { start: 0.5, end: 0.1, curve: "cosine" },
    ema: 0.999,
    dEnsemble: 2,
    dEnsembleDrop: 0.5,
    realTarget: 0.9,
    gTopK: { start: 1, end: 0.5, curve: "linear" },
    lr: 1e-3,
    lrDecay: "linear",
    pack: 4,
    beta1: 0.9,
    seed: 4294967295,
    out: "models/ring",
    sampleEvery: 0,
    snapshotEvery: 7,
    checkpointEvery: 5,
    logEvery: 2,
    backend: "cpu",
    resume: true,
    conditional: false,
    overwrite: false,
    selfCondition: 0,
    auxClassifier: 0,
    engine: "tfjs",
  });
  assert.equal(explicit.size, Object.keys(FLAGS).length + 1);
});

Deno.test("bad values are rejected with one line naming the flag and what it accepts", () => {
  const cases: [string[], string][] = [
    [["--steps", "0"], '--steps: got "0"; accepts an integer 1..10000000'],
    [["--steps", "1.5"], '--steps: got "1.5"; accepts an integer 1..10000000'],
    [["--batch", "-3"], '--batch: got "-3"; accepts an integer 1..4096'],
    [["--batch", "abc"], '--batch: got "abc"; accepts an integer 1..4096'],
    [["--g-dropout", "1"], `--g-dropout: got "1"; accepts ${FLAGS["g-dropout"].accepts}`],
    [["--d-dropout", "NaN"], `--d-dropout: got "NaN"; accepts ${FLAGS["d-dropout"].accepts}`],
    [["--g-dropout", "0.5:1"], `--g-dropout: got "0.5:1"; accepts ${FLAGS["g-dropout"].accepts}`],
    [
      ["--g-dropout", "0.5:0:step"],
      `--g-dropout: got "0.5:0:step"; accepts ${FLAGS["g-dropout"].accepts}`,
    ],
    [["--g-dropout", "0.5:"], `--g-dropout: got "0.5:"; accepts ${FLAGS["g-dropout"].accepts}`],
    [["--ema", "1"], '--ema: got "1"; accepts a number in [0, 1), e.g. 0.999 (0 = off)'],
    [["--d-ensemble", "9"], '--d-ensemble: got "9"; accepts an integer 1..8'],
    [["--d-ensemble-drop", "0.5"], "--d-ensemble-drop: needs --d-ensemble 2 or more (got 1)"],
    [["--real-target", "0.5"], '--real-target: got "0.5"; accepts a number in (0.5, 1]'],
    [["--g-top-k", "0"], `--g-top-k: got "0"; accepts ${FLAGS["g-top-k"].accepts}`],
    [["--g-top-k", "1:1.5"], `--g-top-k: got "1:1.5"; accepts ${FLAGS["g-top-k"].accepts}`],
    [
      ["--aux-classifier", "1", "--dataset", "grid25"],
      "--aux-classifier: needs --conditional or --self-condition, and --pack 1 (got neither)",
    ],
    [
      ["--aux-classifier", "1", "--conditional", "--pack", "2"],
      "--aux-classifier: needs --conditional or --self-condition, and --pack 1 (got --pack 2)",
    ],
    [
      ["--aux-classifier", "-1", "--conditional"],
      `--aux-classifier: got "-1"; accepts ${FLAGS["aux-classifier"].accepts}`,
    ],
    [["--lr", "0"], '--lr: got "0"; accepts a number in (0, 1]'],
    [["--lr", "Infinity"], '--lr: got "Infinity"; accepts a number in (0, 1]'],
    [
      ["--g-hidden", "256,,256"],
      '--g-hidden: got "256,,256"; accepts 1-8 comma-separated integers 1..4096, e.g. 256,256',
    ],
    [["--seed", "4294967296"], '--seed: got "4294967296"; accepts an integer 0..4294967295'],
    [["--dataset", "cifar"], '--dataset: got "cifar"; accepts mnist | ring8 | grid25'],
    [["--backend", "webgl"], '--backend: got "webgl"; accepts wasm | cpu'],
    [["--lr-decay", "cosine"], '--lr-decay: got "cosine"; accepts none | linear'],
    [["--pack", "9"], '--pack: got "9"; accepts an integer 1..8'],
    [["--out", "/tmp/x"], '--out: got "/tmp/x"; accepts a folder under models/, e.g. models/mnist'],
    [
      ["--out", "models/../x"],
      '--out: got "models/../x"; accepts a folder under models/, e.g. models/mnist',
    ],
    [["--epochs", "3"], "--epochs: unknown flag (see --help for the list)"],
    [["--steps"], "--steps: needs a value; accepts an integer 1..10000000"],
    [["extra"], 'unexpected argument "extra": flags take the form --name value'],
    [["--resume=yes"], "--resume: takes no value"],
    [["--resume", "--overwrite"], "--overwrite: starts a run afresh; it cannot go with --resume"],
  ];
  for (const [argv, message] of cases) {
    assert.throws(() => parseTrainArgs(argv), (err: Error) => {
      assert.ok(err instanceof UsageError);
      assert.equal(err.message, message);
      return true;
    });
  }
});

Deno.test("a dropout schedule START:END parses, and a schedule that does not change is a constant", () => {
  assert.deepEqual(parseTrainArgs(["--g-dropout", "0.5:0"]).config.gDropout, {
    start: 0.5,
    end: 0,
    curve: "linear",
  });
  assert.equal(parseTrainArgs(["--g-dropout", "0.25:0.25"]).config.gDropout, 0.25);
  assert.equal(rateAt({ start: 0.5, end: 0, curve: "linear" }, 0, 100), 0.5);
  assert.equal(rateAt({ start: 0.5, end: 0, curve: "linear" }, 50, 100), 0.25);
  assert.equal(rateAt({ start: 0.5, end: 0, curve: "linear" }, 100, 100), 0);
  assert.ok(Math.abs(rateAt({ start: 0.5, end: 0.1, curve: "cosine" }, 50, 100) - 0.3) < 1e-12);
  assert.ok(rateAt({ start: 0.5, end: 0.1, curve: "cosine" }, 10, 100) > 0.49);
  assert.equal(rateAt(0.25, 70, 100), 0.25);
});

Deno.test("--help lists every flag with its default", () => {
  const help = helpText();
  for (
    const name of [...Object.keys(FLAGS), "recipe", "conditional", "resume", "overwrite", "help"]
  ) {
    assert.match(help, new RegExp(`--${name}\\b`));
  }
  assert.match(help, /--batch\s.*\n\s+default 64;/);
  assert.match(help, /--g-dropout\s.*\n\s+default 0\.5:0;/);
  assert.match(help, /--ema\s.*\n\s+default 0\.999;/);
  assert.match(help, /--lr\s.*\n\s+default 0\.0002;/);
  assert.match(help, /--g-hidden\s.*\n\s+default 512,512;/);
});

Deno.test("the CLI exits 2 with one line on stderr for a bad flag, before any work", async () => {
  const { code, stdout, stderr } = await runDeno([...TRAIN, "--batch", "0"]);
  assert.equal(code, 2);
  assert.equal(stdout, "");
  assert.equal(stderr, 'error: --batch: got "0"; accepts an integer 1..4096\n');
  const help = await runDeno([...TRAIN, "--help"]);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /Usage: deno task train/);
});

Deno.test("--recipe applies a named setup from recipes/, and later flags override it", () => {
  const seed = parseTrainArgs(["--recipe", "seed"]).config;
  assert.deepEqual(
    [seed.gHidden, seed.dHidden, seed.gDropout, seed.dDropout, seed.ema],
    [[256, 256], [256, 256], 0.5, 0.5, 0],
  );
  assert.equal(parseTrainArgs(["--recipe", "seed", "--g-dropout", "0"]).config.gDropout, 0);
  assert.equal(parseTrainArgs(["--g-dropout", "0", "--recipe", "seed"]).config.gDropout, 0);
  assert.throws(
    () => parseTrainArgs(["--recipe", "nope"]),
    (err: Error) =>
      err instanceof UsageError && /^--recipe: got "nope"; accepts .*seed/.test(err.message),
  );
  // Every shipped recipe names real flags with valid values.
  for (const name of recipeNames()) {
    assert.ok(readRecipe(name).description.length > 20, name);
    parseTrainArgs(["--recipe", name]);
  }
  assert.ok(recipeNames().includes("2d"));
});

Deno.test("a checkpoint from before a flag existed resumes with that flag off, not today's default", () => {
  const { config } = parseTrainArgs(["--steps", "100"]);
  const saved = { ...config } as Partial<TrainConfig>;
  for (const key of ["ema", "selfCondition", "gTopK", "dEnsemble"] as const) delete saved[key];
  const merged = resumedConfig(
    saved as TrainConfig,
    { ...config, resume: true },
    new Set(["resume"]),
  );
  assert.deepEqual(
    [merged.ema, merged.selfCondition, merged.gTopK, merged.dEnsemble],
    [0, 0, 1, 1],
  );
});

Deno.test("model settings must match on resume; run settings (where, how often) may change", () => {
  const run = Object.values(FLAG_LIST).filter((f) => f.kind === "run").map((f) => f.key).sort();
  assert.deepEqual(run, [
    "backend",
    "checkpointEvery",
    "engine",
    "logEvery",
    "out",
    "sampleEvery",
    "snapshotEvery",
  ]);
  assert.deepEqual([...RESUMABLE_CHANGES].sort(), [
    "checkpointEvery",
    "logEvery",
    "out",
    "resume",
    "sampleEvery",
    "snapshotEvery",
    "steps",
  ]);
});
