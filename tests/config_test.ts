import assert from "node:assert/strict";
import { DEFAULTS, FLAGS, helpText, parseTrainArgs, UsageError } from "../train/config.ts";
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
    "0.25",
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
    "--checkpoint-every",
    "5",
    "--log-every",
    "2",
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
    dDropout: 0.25,
    lr: 1e-3,
    lrDecay: "linear",
    pack: 4,
    beta1: 0.9,
    seed: 4294967295,
    out: "models/ring",
    sampleEvery: 0,
    checkpointEvery: 5,
    logEvery: 2,
    backend: "cpu",
    resume: true,
    conditional: false,
  });
  assert.equal(explicit.size, Object.keys(FLAGS).length + 1);
});

Deno.test("bad values are rejected with one line naming the flag and what it accepts", () => {
  const cases: [string[], string][] = [
    [["--steps", "0"], '--steps: got "0"; accepts an integer 1..10000000'],
    [["--steps", "1.5"], '--steps: got "1.5"; accepts an integer 1..10000000'],
    [["--batch", "-3"], '--batch: got "-3"; accepts an integer 1..4096'],
    [["--batch", "abc"], '--batch: got "abc"; accepts an integer 1..4096'],
    [["--g-dropout", "1"], '--g-dropout: got "1"; accepts a number in [0, 1)'],
    [["--d-dropout", "NaN"], '--d-dropout: got "NaN"; accepts a number in [0, 1)'],
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
  ];
  for (const [argv, message] of cases) {
    assert.throws(() => parseTrainArgs(argv), (err: Error) => {
      assert.ok(err instanceof UsageError);
      assert.equal(err.message, message);
      return true;
    });
  }
});

Deno.test("--help lists every flag with its default", () => {
  const help = helpText();
  for (const name of [...Object.keys(FLAGS), "resume", "help"]) {
    assert.match(help, new RegExp(`--${name}\\b`));
  }
  assert.match(help, /--batch\s.*\n\s+default 64;/);
  assert.match(help, /--g-dropout\s.*\n\s+default 0\.5;/);
  assert.match(help, /--lr\s.*\n\s+default 0\.0002;/);
  assert.match(help, /--g-hidden\s.*\n\s+default 256,256;/);
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
