import assert from "node:assert/strict";
import { initBackend } from "../tfjs/backend.ts";
import { runTraining } from "../train/loop.ts";
import { loadCheckpoint } from "../train/checkpoint.ts";
import { quietPrinter, runDeno, smallConfig, taskArgs, weightsHash } from "./helpers.ts";

await initBackend("wasm");

const ROOT = new URL("..", import.meta.url).pathname;
const TRAIN = taskArgs("train");
// The seed recipe's constant rates, as smallConfig: the run's settings must not depend on its
// length, which the resumed runs change.
const SMALL = [
  "--recipe",
  "seed",
  "--dataset",
  "ring8",
  "--batch",
  "16",
  "--latent",
  "8",
  "--g-hidden",
  "32",
  "--d-hidden",
  "32",
  "--sample-every",
  "0",
  "--checkpoint-every",
  "0",
  "--log-every",
  "50",
];

for (const [signal, code] of [["SIGINT", 130], ["SIGTERM", 143]] as const) {
  Deno.test(`${signal} saves a checkpoint and exits ${code}; --resume then matches an uninterrupted run`, async () => {
    const out = `models/test-tmp-${signal.toLowerCase()}-${crypto.randomUUID().slice(0, 8)}`;
    const reference = await Deno.makeTempDir({ prefix: "edgegan-signal-" });
    try {
      const child = new Deno.Command(Deno.execPath(), {
        args: [...TRAIN, ...SMALL, "--steps", "1000000", "--out", out],
        cwd: ROOT,
        stdout: "piped",
        stderr: "piped",
        env: { NO_COLOR: "1" },
      }).spawn();
      // Wait until training is under way, then signal.
      let seen = "";
      const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
      while (!/step +\d+\/1000000/.test(seen)) {
        const { value, done } = await reader.read();
        if (done) break;
        seen += value;
      }
      child.kill(signal);
      while (true) {
        const { value, done } = await reader.read();
        if (done) break;
        seen += value;
      }
      const status = await child.status;
      const stderr = await new Response(child.stderr).text();
      assert.equal(status.code, code, stderr);
      assert.equal(stderr, "");
      const stopped = seen.match(
        new RegExp(
          `${signal}: stopped at step (\\d+); checkpoint saved to .*; continue with --resume`,
        ),
      );
      assert.ok(stopped, seen);
      const step = Number(stopped[1]);
      assert.equal((await loadCheckpoint(`${ROOT}/${out}`)).step, step);

      const resumed = await runDeno([
        ...TRAIN,
        "--out",
        out,
        "--resume",
        "--steps",
        String(step + 20),
      ]);
      assert.equal(resumed.code, 0, resumed.stderr);
      assert.match(resumed.stdout, new RegExp(`resuming from step ${step}`));

      const full = smallConfig(`${reference}/full`, {
        dataset: "ring8",
        steps: step + 20,
        batch: 16,
        latent: 8,
        gHidden: [32],
        dHidden: [32],
      });
      await runTraining(full, new Set(), { printer: quietPrinter().printer, handleSignals: false });
      assert.equal(await weightsHash(`${ROOT}/${out}`), await weightsHash(`${reference}/full`));
    } finally {
      await Deno.remove(`${ROOT}/${out}`, { recursive: true }).catch(() => {});
      await Deno.remove(reference, { recursive: true });
    }
  });
}
