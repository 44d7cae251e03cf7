import assert from "node:assert/strict";
import { initBackend } from "../tfjs/backend.ts";
import { loadGenerator } from "../tfjs/generator_files.ts";
import { loadCheckpoint } from "../train/checkpoint.ts";
import { bytesNeeded, runTraining } from "../train/loop.ts";
import { quietPrinter, runDeno, smallConfig, taskArgs, weightsHash } from "./helpers.ts";

await initBackend("wasm");

const ROOT = new URL("..", import.meta.url).pathname;
const TRAIN = taskArgs("train");
// A checkpoint every step: the process spends most of its time writing checkpoints.
// The seed recipe's constant rates, as smallConfig: the run's settings must not depend on its
// length, which the resumed runs change.
const SMALL = [
  "--recipe",
  "seed",
  "--dataset",
  "grid25",
  "--batch",
  "16",
  "--latent",
  "8",
  "--g-hidden",
  "64,64",
  "--d-hidden",
  "64,64",
  "--sample-every",
  "0",
  "--checkpoint-every",
  "1",
  "--log-every",
  "10",
];

Deno.test("dying at each point of a checkpoint write never leaves an unloadable checkpoint; resuming still matches an uninterrupted run", async () => {
  const out = `models/test-tmp-kill-${crypto.randomUUID().slice(0, 8)}`;
  const reference = await Deno.makeTempDir({ prefix: "edgegan-kill-" });
  const total = 400;
  // The train task's permissions plus the one that arms the fault hook (format/atomic.ts).
  const args = [...TRAIN];
  args.splice(args.indexOf("train/main.ts"), 0, "--allow-env=EDGEGAN_DIE_AT");
  try {
    let lastStep = 0;
    const points = ["partial:3", "written:5", "renamed:2", "partial:40", "written:1", "renamed:9"];
    for (const [i, point] of points.entries()) {
      const child = await new Deno.Command(Deno.execPath(), {
        args: [
          ...args,
          ...SMALL,
          "--steps",
          String(total),
          "--out",
          out,
          ...(i > 0 ? ["--resume"] : []),
        ],
        cwd: ROOT,
        env: { EDGEGAN_DIE_AT: `checkpoint.bin:${point}` },
        stdout: "null",
        stderr: "piped",
      }).output();
      assert.equal(child.code, 137, `died at ${point}: ${new TextDecoder().decode(child.stderr)}`);
      // Whatever point the process died at, the checkpoint on disk is complete and loadable.
      const checkpoint = await loadCheckpoint(`${ROOT}/${out}`);
      assert.ok(
        checkpoint.step >= lastStep,
        `checkpoint went back from ${lastStep} to ${checkpoint.step}`,
      );
      lastStep = checkpoint.step;
    }
    assert.ok(lastStep > 0 && lastStep < total, `the runs stopped part-way (at ${lastStep})`);
    const done = await runDeno([
      ...TRAIN,
      ...SMALL,
      "--steps",
      String(total),
      "--out",
      out,
      "--resume",
    ]);
    assert.equal(done.code, 0, done.stderr);
    await loadGenerator(`${ROOT}/${out}`);
    const leftovers = [...Deno.readDirSync(`${ROOT}/${out}/checkpoint`)].map((e) => e.name);
    assert.deepEqual(
      leftovers,
      ["checkpoint.bin"],
      "stale temporary files are cleaned up on resume",
    );

    await runTraining(
      smallConfig(`${reference}/full`, {
        dataset: "grid25",
        steps: total,
        batch: 16,
        latent: 8,
        gHidden: [64, 64],
        dHidden: [64, 64],
        checkpointEvery: 0,
      }),
      new Set(),
      { printer: quietPrinter().printer, handleSignals: false },
    );
    assert.equal(await weightsHash(`${ROOT}/${out}`), await weightsHash(`${reference}/full`));
  } finally {
    await Deno.remove(`${ROOT}/${out}`, { recursive: true }).catch(() => {});
    await Deno.remove(reference, { recursive: true });
  }
});

Deno.test("an --out that cannot be written fails before training with one line", async () => {
  const file = `models/test-tmp-file-${crypto.randomUUID().slice(0, 8)}`;
  await Deno.writeTextFile(`${ROOT}/${file}`, "not a folder");
  try {
    const res = await runDeno([...TRAIN, ...SMALL, "--steps", "5", "--out", file]);
    assert.equal(res.code, 1);
    assert.match(res.stderr, new RegExp(`^error: --out: cannot write to ${file} \\(.*\\)\\n$`));
    assert.doesNotMatch(res.stdout, /step/);
  } finally {
    await Deno.remove(`${ROOT}/${file}`);
  }
});

Deno.test("a checkpoint that cannot be written stops the run with one line naming it", async () => {
  const out = `models/test-tmp-deny-${crypto.randomUUID().slice(0, 8)}`;
  try {
    const args = [...TRAIN];
    args.splice(args.indexOf("train/main.ts"), 0, `--deny-write=${out}/checkpoint`);
    const res = await runDeno([...args, ...SMALL, "--steps", "5", "--out", out]);
    assert.equal(res.code, 1);
    assert.match(
      res.stderr,
      new RegExp(
        `^error: cannot write the checkpoint ${out}/checkpoint/checkpoint\\.bin: .*; earlier files are intact\\n$`,
      ),
    );
  } finally {
    await Deno.remove(`${ROOT}/${out}`, { recursive: true }).catch(() => {});
  }
});

Deno.test("the free-space check budgets at least what a run really writes", async () => {
  const dir = await Deno.makeTempDir({ prefix: "edgegan-space-" });
  try {
    const config = smallConfig(`${dir}/m`, { steps: 5 });
    await runTraining(config, new Set(), { printer: quietPrinter().printer, handleSignals: false });
    const checkpoint = (await Deno.stat(`${dir}/m/checkpoint/checkpoint.bin`)).size;
    let model = 0;
    for (const e of Deno.readDirSync(`${dir}/m`)) {
      if (e.isFile) model += (await Deno.stat(`${dir}/m/${e.name}`)).size;
    }
    assert.ok(
      bytesNeeded(config) >= 2 * checkpoint + 2 * model,
      `${bytesNeeded(config)} < ${2 * checkpoint + 2 * model}`,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
