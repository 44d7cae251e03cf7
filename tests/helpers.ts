/** Shared test fixtures: small, fast training configs and a silent progress printer. */
import { DEFAULTS, type TrainConfig } from "../train/config.ts";
import { ProgressPrinter } from "../train/progress.ts";
import { taskArgs } from "../cli/tasks.ts";

/** The `deno` arguments of a task, so tests run exactly what users run. */
export { taskArgs };

/** A config small enough to train in about a second, writing to `out`. */
export function smallConfig(out: string, overrides: Partial<TrainConfig> = {}): TrainConfig {
  return {
    ...structuredClone(DEFAULTS),
    // Constant rates and no averaging, whatever the default recipe: tests that extend --steps
    // on resume need a run whose settings do not depend on its length.
    gDropout: 0.5,
    dDropout: 0.5,
    ema: 0,
    selfCondition: 0,
    steps: 30,
    batch: 16,
    latent: 8,
    gHidden: [32],
    dHidden: [32],
    sampleEvery: 0,
    checkpointEvery: 10,
    logEvery: 10,
    out,
    ...overrides,
  };
}

/** A printer that collects lines instead of writing to stdout. */
export function quietPrinter(): { printer: ProgressPrinter; text: () => string } {
  let text = "";
  return {
    printer: new ProgressPrinter({ tty: false, write: (t) => text += t }),
    text: () => text,
  };
}

export async function tempDir(t: Deno.TestContext | string): Promise<string> {
  const prefix = typeof t === "string" ? t : t.name.replace(/[^\w]+/g, "-").slice(0, 40);
  return await Deno.makeTempDir({ prefix: `edgegan-${prefix}-` });
}

/** Runs a project CLI through `deno run` with the given permission flags. */
export async function runDeno(
  args: string[],
  options: { signal?: AbortSignal } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args,
    cwd: new URL("..", import.meta.url).pathname,
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
    signal: options.signal,
    env: { NO_COLOR: "1" },
  }).output();
  const decoder = new TextDecoder();
  return { code: out.code, stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr) };
}

/** Trains a small MNIST generator into `out` (about half a second) for serving tests. */
export async function trainTinyModel(
  out: string,
  overrides: Partial<TrainConfig> = {},
): Promise<void> {
  const { runTraining } = await import("../train/loop.ts");
  await runTraining(
    smallConfig(out, { steps: 20, latent: 16, gHidden: [64], dHidden: [64], ...overrides }),
    new Set(),
    { printer: quietPrinter().printer, handleSignals: false },
  );
}

/** A free TCP port on 127.0.0.1. */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/**
 * Starts the server exactly as `deno task serve` does (same permissions) on a free port, with
 * PORT from the environment, and waits for its listen line.
 */
export async function startServer(model?: string) {
  const port = freePort();
  const child = new Deno.Command(Deno.execPath(), {
    args: [...taskArgs("serve"), ...(model ? ["--model", model] : []), "--host", "127.0.0.1"],
    cwd: new URL("..", import.meta.url).pathname,
    env: { PORT: String(port), NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let seen = "";
  while (!seen.includes("serving")) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`server exited: ${seen} ${await new Response(child.stderr).text()}`);
    seen += value;
  }
  return {
    port,
    base: `http://127.0.0.1:${port}`,
    /** What the server printed before listening. */
    seen,
    /** Stops the server; returns what it wrote to stderr. */
    async stop(): Promise<string> {
      child.kill("SIGTERM");
      await child.status;
      reader.releaseLock();
      await child.stdout.cancel().catch(() => {});
      return await new Response(child.stderr).text();
    },
  };
}

/** The weights hash a saved model records (equal hashes = bitwise-identical weights). */
export async function weightsHash(dir: string): Promise<string> {
  const json = JSON.parse(await Deno.readTextFile(`${dir}/model.json`));
  return json.userDefinedMetadata.edgegan.weightsSha256;
}

/**
 * Trains `config` to step `stopAt` (stopped there as by a crash, checkpoint kept), then resumes
 * it to the end; returns the saved weights' hash, to compare with an uninterrupted run.
 */
export async function trainInterruptedAndResumed(
  config: TrainConfig,
  stopAt: number,
): Promise<string> {
  const { runTraining } = await import("../train/loop.ts");
  const quiet = { printer: quietPrinter().printer };
  const stop = new Error("stop");
  await runTraining(config, new Set(), {
    ...quiet,
    beforeStep: (_gan, step) => {
      if (step === stopAt) throw stop;
    },
  }).then(
    () => {
      throw new Error(`the run finished before step ${stopAt}`);
    },
    (err) => {
      if (err !== stop) throw err;
    },
  );
  await runTraining({ ...config, resume: true }, new Set(["resume"]), quiet);
  return await weightsHash(config.out);
}

/**
 * Trains `flags` (on the small config) twice and once interrupted at step 20 then resumed, in
 * `dir`; asserts all three save identical weights. Returns the full run's folder.
 */
export async function assertDeterministicAndResumable(
  dir: string,
  flags: Partial<TrainConfig>,
): Promise<string> {
  const { runTraining } = await import("../train/loop.ts");
  const quiet = { printer: quietPrinter().printer };
  await runTraining(smallConfig(`${dir}/full`, flags), new Set(), quiet);
  await runTraining(smallConfig(`${dir}/again`, flags), new Set(), quiet);
  const full = await weightsHash(`${dir}/full`);
  if (await weightsHash(`${dir}/again`) !== full) throw new Error("two runs differ");
  // Stopped at step 20 of the same 30-step run (schedules keep their length), then resumed.
  const resumed = await trainInterruptedAndResumed(smallConfig(`${dir}/split`, flags), 20);
  if (resumed !== full) throw new Error("the resumed run differs from the full run");
  return `${dir}/full`;
}
