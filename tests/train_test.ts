import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import { loadGenerator } from "../tfjs/generator_files.ts";
import { sha256Hex } from "../format/model_files.ts";
import { initBackend } from "../tfjs/backend.ts";
import { latentBatch } from "../random/seeded.ts";
import { runTraining, TrainingError } from "../train/loop.ts";
import { checkpointPath, loadCheckpoint } from "../train/checkpoint.ts";
import { Gan, RealData } from "../train/gan.ts";
import { loadMnist } from "../datasets/mnist.ts";
import { UsageError } from "../cli/flags.ts";
import { quietPrinter, smallConfig, tempDir, weightsHash } from "./helpers.ts";

await initBackend("wasm");

async function withTemp(t: Deno.TestContext, fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await tempDir(t);
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("a short MNIST run saves a generator that loads back and gives [n, 784] in [-1, 1]", async (t) => {
  await withTemp(t, async (dir) => {
    const out = `${dir}/mnist`;
    const { printer, text } = quietPrinter();
    const result = await runTraining(smallConfig(out, { steps: 20, sampleEvery: 10 }), new Set(), {
      printer,
    });
    assert.equal(result.status, "finished");
    assert.match(text(), /edgegan train: resolved configuration/);
    assert.match(text(), /backend: wasm \(SIMD on, threads off\)/);
    assert.match(text(), /step 20\/20 .*steps\/s .*D\(G\(z\)\)/);

    const { model, metadata } = await loadGenerator(out);
    assert.deepEqual(model.outputs[0].shape, [null, 784]);
    assert.equal(metadata.dataset, "mnist");
    assert.deepEqual(metadata.outputShape, [28, 28]);
    assert.deepEqual(metadata.dropout, { generator: 0.5, discriminator: 0.5 });
    assert.equal(metadata.steps, 20);
    assert.equal(metadata.seed, 1);
    assert.equal(metadata.backend, "wasm");
    assert.equal(metadata.tfjsVersion, tf.version_core);
    assert.equal(metadata.hyperparameters.lr, 2e-4);
    const weightsFile =
      JSON.parse(await Deno.readTextFile(`${out}/model.json`)).weightsManifest[0].paths[0];
    assert.equal(
      await sha256Hex(await Deno.readFile(`${out}/${weightsFile}`)),
      metadata.weightsSha256,
    );

    const out2 = model.predict(tf.tensor2d(latentBatch(3, 5, 8), [5, 8])) as tf.Tensor;
    assert.deepEqual(out2.shape, [5, 784]);
    const values = out2.dataSync();
    assert.ok(values.every((v) => v >= -1 && v <= 1));
    tf.dispose(out2);
    model.dispose();

    // Sample grids, metrics and a checkpoint were written.
    const samples = [...Deno.readDirSync(`${out}/samples`)].map((e) => e.name).sort();
    assert.deepEqual(samples, ["step-0000010.png", "step-0000020.png"]);
    const metrics = (await Deno.readTextFile(`${out}/metrics.jsonl`)).trim().split("\n").map((l) =>
      JSON.parse(l)
    );
    assert.deepEqual(metrics.map((m) => m.step), [10, 20]);
    for (const key of ["dLoss", "gLoss", "dReal", "dFake", "stepsPerS", "wallTimeS"]) {
      assert.ok(Number.isFinite(metrics[1][key]), key);
    }
    assert.equal((await loadCheckpoint(out)).step, 20);
  });
});

Deno.test("the saved model loads with stock tf.loadLayersModel over HTTP, as a browser would", async (t) => {
  await withTemp(t, async (dir) => {
    const out = `${dir}/m`;
    await runTraining(smallConfig(out, { steps: 5 }), new Set(), {
      printer: quietPrinter().printer,
    });
    const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
      const name = new URL(req.url).pathname.slice(1);
      return new Response(await Deno.readFile(`${out}/${name}`));
    });
    try {
      const model = await tfl.loadLayersModel(`http://127.0.0.1:${server.addr.port}/model.json`);
      const ours = await loadGenerator(out);
      const z = tf.tensor2d(latentBatch(9, 3, 8), [3, 8]);
      const a = (model.predict(z) as tf.Tensor).dataSync();
      const b = (ours.model.predict(z) as tf.Tensor).dataSync();
      assert.deepEqual(a, b);
      assert.equal(
        (model.getUserDefinedMetadata() as { edgegan: { dataset: string } }).edgegan.dataset,
        "mnist",
      );
      model.dispose();
      ours.model.dispose();
      z.dispose();
    } finally {
      await server.shutdown();
    }
  });
});

Deno.test("dropout is on in training and off at inference", async (t) => {
  await withTemp(t, async (dir) => {
    const out = `${dir}/m`;
    await runTraining(smallConfig(out, { steps: 5 }), new Set(), {
      printer: quietPrinter().printer,
    });
    const { model } = await loadGenerator(out);
    assert.ok(
      model.layers.some((l) => l.getClassName() === "Dropout"),
      "the saved net keeps its Dropout layers",
    );
    tf.tidy(() => {
      const z = tf.tensor2d(latentBatch(1, 4, 8), [4, 8]);
      const p1 = (model.predict(z) as tf.Tensor).dataSync();
      const p2 = (model.predict(z) as tf.Tensor).dataSync();
      assert.deepEqual(p1, p2, "predict is deterministic: no dropout at inference");
      const t1 = (model.apply(z, { training: true }) as tf.Tensor).dataSync();
      const t2 = (model.apply(z, { training: true }) as tf.Tensor).dataSync();
      assert.notDeepEqual(t1, p1, "training mode applies dropout");
      assert.notDeepEqual(t1, t2, "each training pass draws a fresh mask");
    });
    model.dispose();
  });
});

Deno.test("the tensor count stays constant from step to step (no leaks)", async () => {
  const config = smallConfig("unused");
  const gan = new Gan(config, new RealData(config, await loadMnist("train")));
  try {
    gan.step(0);
    const after1 = tf.memory().numTensors;
    for (let s = 1; s < 6; s++) gan.step(s);
    assert.equal(tf.memory().numTensors, after1);
    // Checkpoint state tensors are views, not copies.
    gan.stateTensors();
    assert.equal(tf.memory().numTensors, after1);
  } finally {
    gan.dispose();
  }
});

Deno.test("the same flags and seed give bitwise-identical generator weights; another seed differs", async (t) => {
  await withTemp(t, async (dir) => {
    const quiet = { printer: quietPrinter().printer };
    await runTraining(smallConfig(`${dir}/a`), new Set(), quiet);
    await runTraining(smallConfig(`${dir}/b`), new Set(), quiet);
    await runTraining(smallConfig(`${dir}/c`, { seed: 2 }), new Set(), quiet);
    assert.equal(await weightsHash(`${dir}/a`), await weightsHash(`${dir}/b`));
    assert.notEqual(await weightsHash(`${dir}/a`), await weightsHash(`${dir}/c`));
  });
});

Deno.test("a run stopped and resumed ends with the same weights as an uninterrupted run", async (t) => {
  await withTemp(t, async (dir) => {
    const quiet = { printer: quietPrinter().printer };
    for (const dataset of ["mnist", "grid25"] as const) {
      await runTraining(
        smallConfig(`${dir}/full-${dataset}`, { dataset, steps: 30 }),
        new Set(),
        quiet,
      );
      // Stop after 20 steps (a checkpoint every 10), then resume to 30.
      await runTraining(
        smallConfig(`${dir}/split-${dataset}`, { dataset, steps: 20 }),
        new Set(),
        quiet,
      );
      const resumed = await runTraining(
        smallConfig(`${dir}/split-${dataset}`, { dataset, steps: 30, resume: true }),
        new Set(["steps", "resume"]),
        quiet,
      );
      assert.equal(resumed.step, 30);
      assert.equal(
        await weightsHash(`${dir}/split-${dataset}`),
        await weightsHash(`${dir}/full-${dataset}`),
        dataset,
      );
      const metrics = (await Deno.readTextFile(`${dir}/split-${dataset}/metrics.jsonl`)).trim()
        .split("\n");
      assert.deepEqual(metrics.map((l) => JSON.parse(l).step), [10, 20, 30]);
    }
  });
});

Deno.test("resume refuses changed training flags; a fresh run refuses a checkpoint or a saved model unless --overwrite", async (t) => {
  await withTemp(t, async (dir) => {
    const quiet = { printer: quietPrinter().printer };
    const out = `${dir}/m`;
    await runTraining(smallConfig(out, { steps: 10 }), new Set(), quiet);
    await assert.rejects(
      runTraining(
        smallConfig(out, { steps: 20, lr: 1e-3, resume: true }),
        new Set(["steps", "lr", "resume"]),
        quiet,
      ),
      (err: Error) =>
        err instanceof UsageError &&
        /^--lr: 0\.001 differs from the checkpoint's 0\.0002/.test(err.message),
    );
    await assert.rejects(
      runTraining(smallConfig(out, { steps: 20 }), new Set(["steps"]), quiet),
      (err: Error) =>
        err instanceof UsageError && /holds a checkpoint .* pass --resume/.test(err.message),
    );
    // --overwrite starts afresh: the old checkpoint goes, and the run ends as a fresh one would.
    await runTraining(
      smallConfig(out, { steps: 20, overwrite: true }),
      new Set(["steps", "overwrite"]),
      quiet,
    );
    const fresh = `${dir}/fresh`;
    await runTraining(smallConfig(fresh, { steps: 20 }), new Set(["steps"]), quiet);
    const sha = async (folder: string) =>
      JSON.parse(await Deno.readTextFile(`${folder}/model.json`)).userDefinedMetadata.edgegan
        .weightsSha256;
    assert.equal(await sha(out), await sha(fresh));
    // A saved model without a checkpoint (as shipped): a fresh run leaves the folder untouched.
    await Deno.remove(`${out}/checkpoint`, { recursive: true });
    const log = await Deno.readFile(`${out}/metrics.jsonl`);
    await assert.rejects(
      runTraining(smallConfig(out, { steps: 20 }), new Set(["steps"]), quiet),
      (err: Error) =>
        err instanceof UsageError &&
        err.message ===
          `--out: ${out} holds a saved model; pass --overwrite to train it again in place, or choose another --out`,
    );
    assert.deepEqual(await Deno.readFile(`${out}/metrics.jsonl`), log);
    await assert.rejects(
      runTraining(smallConfig(`${dir}/none`, { resume: true }), new Set(["resume"]), quiet),
      /no checkpoint to resume from/,
    );
  });
});

Deno.test("a second training into a folder another is writing to stops at once; the lock ends with the first", async (t) => {
  await withTemp(t, async (dir) => {
    const quiet = { printer: quietPrinter().printer };
    const out = `${dir}/m`;
    let second: Promise<unknown> | undefined;
    // While the first run is at its third step, a second one with the same --out starts.
    await runTraining(smallConfig(out, { steps: 5 }), new Set(), {
      ...quiet,
      beforeStep: (_gan, step) => {
        if (step === 2) {
          // Its error is kept as a value: it arrives while the first run is still training.
          second = runTraining(smallConfig(out, { steps: 5 }), new Set(), quiet)
            .then(() => new Error("the second training ran"), (err: Error) => err);
        }
      },
    });
    const err = await second! as Error;
    assert.ok(
      err instanceof TrainingError &&
        err.message ===
          `--out: another training is writing to ${out}; wait for it to end or choose another --out`,
      String(err),
    );
    // Released: resuming the finished run's folder is allowed again.
    const again = await runTraining(
      smallConfig(out, { steps: 6, resume: true }),
      new Set(["steps", "resume"]),
      quiet,
    );
    assert.equal(again.step, 6);
  });
});

Deno.test("a NaN loss stops training with a clear message and keeps the last good checkpoint", async (t) => {
  await withTemp(t, async (dir) => {
    const out = `${dir}/m`;
    await assert.rejects(
      runTraining(smallConfig(out, { steps: 30 }), new Set(), {
        printer: quietPrinter().printer,
        beforeStep: (gan, step) => {
          if (step === 24) gan.dVars[0].assign(tf.fill(gan.dVars[0].shape, NaN));
        },
      }),
      (err: Error) =>
        err instanceof TrainingError &&
        err.message.includes("training diverged at step 25: D loss is NaN") &&
        err.message.includes(
          `the last good checkpoint (step 20) is kept in ${checkpointPath(out)}`,
        ),
    );
    const checkpoint = await loadCheckpoint(out);
    assert.equal(checkpoint.step, 20);
    assert.ok(Object.values(checkpoint.tensors).every((t) => t.values.every(Number.isFinite)));
    await assert.rejects(Deno.stat(`${out}/model.json`), Deno.errors.NotFound);
  });
});

Deno.test("the 2-D datasets train and write a scatter plot", async (t) => {
  await withTemp(t, async (dir) => {
    const out = `${dir}/ring8`;
    await runTraining(
      smallConfig(out, { dataset: "ring8", steps: 10, sampleEvery: 10 }),
      new Set(),
      {
        printer: quietPrinter().printer,
      },
    );
    const { metadata } = await loadGenerator(out);
    assert.deepEqual(metadata.outputShape, [2]);
    assert.equal(metadata.outputRange, null);
    const png = await Deno.readFile(`${out}/samples/step-0000010.png`);
    assert.deepEqual(Array.from(png.subarray(1, 4)), [80, 78, 71]);
  });
});

Deno.test("--pack makes D judge packed samples side by side; packed runs resume exactly", async (t) => {
  await withTemp(t, async (dir) => {
    const quiet = { printer: quietPrinter().printer };
    for (const dataset of ["grid25", "mnist"] as const) {
      const config = smallConfig(`${dir}/${dataset}`, { dataset, pack: 3, steps: 20 });
      const data = new RealData(config, dataset === "mnist" ? await loadMnist("train") : undefined);
      const gan = new Gan(config, data);
      try {
        const width = dataset === "mnist" ? 784 : 2;
        assert.deepEqual(gan.discriminator.inputs[0].shape, [null, 3 * width]);
        assert.equal(data.batch(0).length, 3 * config.batch * width, "3 real samples per D row");
        const stats = gan.step(0);
        assert.ok(Number.isFinite(stats.dLoss) && Number.isFinite(stats.gLoss));
        // The generator itself is unchanged by packing.
        assert.deepEqual(gan.generator.outputs[0].shape, [null, width]);
      } finally {
        gan.dispose();
      }
    }
    await runTraining(smallConfig(`${dir}/full`, { dataset: "ring8", pack: 2 }), new Set(), quiet);
    await runTraining(
      smallConfig(`${dir}/split`, { dataset: "ring8", pack: 2, steps: 20 }),
      new Set(),
      quiet,
    );
    await runTraining(
      smallConfig(`${dir}/split`, { dataset: "ring8", pack: 2, resume: true }),
      new Set(["steps", "resume"]),
      quiet,
    );
    assert.equal(await weightsHash(`${dir}/split`), await weightsHash(`${dir}/full`));
    const { metadata } = await loadGenerator(`${dir}/full`);
    assert.equal(metadata.hyperparameters.pack, 2);
  });
});

Deno.test("--lr-decay linear lowers both learning rates to 0 at the last step", () => {
  const config = smallConfig("models/unused", { dataset: "ring8", lrDecay: "linear", steps: 100 });
  const gan = new Gan(config, new RealData(config));
  try {
    assert.equal(gan.learningRate(0), config.lr);
    assert.equal(gan.learningRate(50), config.lr / 2);
    assert.ok(Math.abs(gan.learningRate(99) - config.lr / 100) < 1e-12);
    gan.step(50);
    assert.equal(gan.gAdam.lr, config.lr / 2);
    assert.equal(gan.dAdam.lr, config.lr / 2);
    const constant = new Gan({ ...config, lrDecay: "none" }, new RealData(config));
    assert.equal(constant.learningRate(99), config.lr);
    constant.dispose();
  } finally {
    gan.dispose();
  }
});

Deno.test("--snapshot-every saves loadable generators along the way, each with its step", async (t) => {
  await withTemp(t, async (dir) => {
    const out = `${dir}/snap`;
    await runTraining(smallConfig(out, { steps: 30, snapshotEvery: 10, ema: 0.9 }), new Set(), {
      printer: quietPrinter().printer,
    });
    const names = [];
    for await (const e of Deno.readDir(`${out}/snapshots`)) names.push(e.name);
    assert.deepEqual(names.sort(), ["step-0000010", "step-0000020"]);
    const { model, metadata } = await loadGenerator(`${out}/snapshots/step-0000020`);
    assert.equal(metadata.steps, 20);
    assert.deepEqual(metadata.ema, { decay: 0.9 });
    model.dispose();
  });
});
