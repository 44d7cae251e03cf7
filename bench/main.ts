/**
 * `deno task bench`: training speed (edgegan's loop, the plain tfjs loop, the CPU backend and
 * the PyTorch peer), the WASM GEMM roofline, and serving speed, cold start and memory. Prints one
 * table and writes it, with the machine and versions, to bench/RESULTS.md.
 *
 * Every load test targets 127.0.0.1 only and is bounded in requests and seconds.
 */
import { exitUsage, parseCli } from "../cli/flags.ts";
import * as tf from "@tensorflow/tfjs-core";
import { parseTrainArgs } from "../train/config.ts";

/** The net the training rows measure: the seed recipe, as the PyTorch peer. */
const SEED = parseTrainArgs(["--recipe", "seed"]).config;
import { mnistDir } from "../datasets/mnist.ts";
import { type LoadResult, loadWithDeno, loadWithWrk, sampleRss } from "./load.ts";
import { taskArgs } from "../cli/tasks.ts";
import { encodeBase64 } from "../engine/kernels/base64.ts";
import { writeFileAtomic } from "../format/atomic.ts";
import { dirname } from "node:path";

const ROOT = new URL("..", import.meta.url).pathname;
const flags = parseCli(
  Deno.args,
  "deno task bench: training speed, serving speed, cold start and memory; writes a RESULTS table.",
  {
    quick: { type: "boolean", default: false, accepts: "fewer steps and requests (a smoke run)" },
    only: { type: "string", accepts: "serving: only the serving and start-up rows" },
    out: {
      type: "string",
      accepts: "the table's path (default bench/RESULTS.md, or RESULTS-serving.md with --only)",
    },
  },
);
const QUICK = flags.quick;

interface Row {
  group: string;
  what: string;
  value: string;
  note?: string;
}
const rows: Row[] = [];
const add = (group: string, what: string, value: string, note = "") => {
  rows.push({ group, what, value, note });
  console.log(`${group.padEnd(9)} ${what.padEnd(46)} ${value.padEnd(16)} ${note}`);
};

async function runJson(
  cmd: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<Record<string, unknown>> {
  const out = await new Deno.Command(cmd, {
    args,
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
    env,
  }).output();
  const text = new TextDecoder().decode(out.stdout).trim().split("\n").pop() ?? "";
  if (!out.success) {
    throw new Error(
      `${cmd} ${args.join(" ")} failed: ${new TextDecoder().decode(out.stderr).slice(0, 400)}`,
    );
  }
  return JSON.parse(text);
}

const deno = Deno.execPath();
const denoRun = (file: string, ...args: string[]) =>
  runJson(deno, ["run", "--allow-read=.", file, ...args]);

/** Useful FLOPs of one edgegan training step (forward, and only the gradients it needs). */
function stepFlops(): number {
  const b = SEED.batch;
  const g = [SEED.latent, ...SEED.gHidden, 784];
  const d = [784, ...SEED.dHidden, 1];
  const macs = (dims: number[], from = 0) =>
    dims.slice(from, -1).reduce((s, n, i) => s + n * dims[from + i + 1], 0);
  const gFwd = 2 * b * macs(g), dFwd = 2 * b * macs(d);
  const dStep = 2 * dFwd + 2 * dFwd + 2 * 2 * b * macs(d, 1); // fwd + dW on 2B rows, dX of hidden layers
  const gStep = dFwd + dFwd + gFwd + 2 * b * macs(g, 1); // D fwd, D dX, G dW, G dX of hidden layers
  return gFwd + dStep + gStep;
}

async function machine(): Promise<string[]> {
  const cpuinfo = await Deno.readTextFile("/proc/cpuinfo").catch(() => "");
  const model = cpuinfo.match(/model name\s*:\s*(.*)/)?.[1] ?? "unknown CPU";
  const memKb = Number(
    (await Deno.readTextFile("/proc/meminfo").catch(() => "")).match(/MemTotal:\s+(\d+)/)?.[1] ?? 0,
  );
  return [
    `- Machine: ${model}, ${navigator.hardwareConcurrency} cores, ${
      (memKb / 1024 / 1024).toFixed(0)
    } GiB, ${Deno.build.os} ${Deno.build.arch}`,
    `- Deno ${Deno.version.deno} (V8 ${Deno.version.v8}), tfjs ${tf.version_core}`,
    `- Date: ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC${
      QUICK ? " (quick run: fewer steps and requests)" : ""
    }`,
  ];
}

// ---- Training ----------------------------------------------------------------------------
async function trainingBench() {
  const probe = await denoRun("bench/gemm_probe.ts") as {
    plainGflops: number;
    stockTransposedGflops: number;
  };
  const flops = stepFlops();
  const roofline = (probe.plainGflops * 1e9) / flops;
  add("gemm", "WASM matMul, plain (step's shapes)", `${probe.plainGflops.toFixed(1)} GFLOP/s`);
  add(
    "gemm",
    "WASM matMul, transposeB, stock kernel",
    `${probe.stockTransposedGflops.toFixed(1)} GFLOP/s`,
  );
  add(
    "gemm",
    "roofline for one step",
    `${roofline.toFixed(1)} steps/s`,
    `${(flops / 1e6).toFixed(0)} MFLOP/step at the plain rate`,
  );

  const steps = (n: number) => String(QUICK ? Math.ceil(n / 4) : n);
  const wasm = await denoRun("bench/train_bench.ts", "--loop", "edgegan", "--steps", steps(600));
  const stockFix = await denoRun("bench/train_bench.ts", "--loop", "stock", "--steps", steps(200));
  const stock = await denoRun(
    "bench/train_bench.ts",
    "--loop",
    "stock",
    "--no-fix",
    "--steps",
    steps(60),
  );
  const cpu = await denoRun(
    "bench/train_bench.ts",
    "--backend",
    "cpu",
    "--loop",
    "edgegan",
    "--steps",
    steps(40),
  );
  const sps = (r: Record<string, unknown>) => r.stepsPerS as number;
  add(
    "train",
    "edgegan loop, WASM SIMD",
    `${sps(wasm).toFixed(1)} steps/s`,
    `${((sps(wasm) * flops) / 1e9).toFixed(1)} GFLOP/s achieved, ${
      (100 * sps(wasm) / roofline).toFixed(0)
    }% of roofline`,
  );
  add(
    "train",
    "plain tfjs loop, WASM + transposed-matMul fix",
    `${sps(stockFix).toFixed(1)} steps/s`,
  );
  add("train", "plain tfjs loop, WASM stock kernels (before)", `${sps(stock).toFixed(1)} steps/s`);
  add("train", "edgegan loop, tfjs CPU backend", `${sps(cpu).toFixed(1)} steps/s`);

  // The small nets (#13): the 2-D recipe on the tfjs step and on the fused WASM step, against
  // the MNIST default recipe in the same run, and two fused runs at once (a study's --jobs 2).
  // One train_bench run of the given training flags for `n` steps (a quarter with --quick).
  const speed = (train: string, n: number) =>
    denoRun("bench/train_bench.ts", `--train=${train}`, "--steps", steps(n));
  const mnistDefault = await speed("", 150);
  const twoD = "--recipe 2d --dataset grid25";
  const twoDTfjs = await speed(`${twoD} --engine tfjs`, 1000);
  const twoDFused = await speed(twoD, 3000);
  const pair = await Promise.all([1, 2].map(() => speed(twoD, 3000)));
  // models/grid25's recipe: 100 clusters' one-hot codes widen G's and D's input.
  const shipped = `${twoD} --self-condition 100`;
  const shippedTfjs = await speed(`${shipped} --engine tfjs`, 1000);
  const shippedFused = await speed(shipped, 3000);
  add(
    "train",
    "MNIST default recipe (G 100-512-512-784, D 784-512-256-1)",
    `${sps(mnistDefault).toFixed(1)} steps/s`,
    `the default 50,000 steps in ${(50_000 / sps(mnistDefault) / 60).toFixed(0)} min`,
  );
  add(
    "train",
    "2-D recipe (G 2-256-256-2, D 2-256-256-1), tfjs step",
    `${sps(twoDTfjs).toFixed(1)} steps/s`,
  );
  add(
    "train",
    "2-D recipe, fused WASM step (--engine auto)",
    `${sps(twoDFused).toFixed(1)} steps/s`,
    `${(sps(twoDFused) / sps(mnistDefault)).toFixed(1)}x the MNIST default (target >= 5x), ${
      (sps(twoDFused) / sps(twoDTfjs)).toFixed(2)
    }x the tfjs step`,
  );
  add(
    "train",
    "models/grid25's recipe (100 clusters), tfjs / fused step",
    `${sps(shippedTfjs).toFixed(1)} / ${sps(shippedFused).toFixed(1)} steps/s`,
    `fused ${(sps(shippedFused) / sps(shippedTfjs)).toFixed(2)}x the tfjs step`,
  );
  add(
    "train",
    "2-D study throughput, 2 fused runs at once",
    `${(sps(pair[0]) + sps(pair[1])).toFixed(1)} cell-steps/s`,
    `${((sps(pair[0]) + sps(pair[1])) / sps(twoDFused)).toFixed(2)}x one run (2 cores)`,
  );

  const python = await findTorch();
  if (python) {
    const torch = await runJson(python, ["bench/torch_gan.py", mnistDir(), steps(200)]);
    add(
      "train",
      `PyTorch ${torch.torch} CPU (${torch.threads} thread${torch.threads === 1 ? "" : "s"})`,
      `${sps(torch).toFixed(1)} steps/s`,
      `edgegan WASM is ${(sps(wasm) / sps(torch)).toFixed(2)}x`,
    );
  } else {
    add(
      "train",
      "PyTorch CPU",
      "skipped",
      "no python3 with torch here (Debian: apt-get install python3-torch)",
    );
  }
}

async function findTorch(): Promise<string | undefined> {
  for (const python of ["python3", "/usr/bin/python3"]) {
    try {
      const out = await new Deno.Command(python, {
        args: ["-c", "import torch"],
        stdout: "null",
        stderr: "null",
      }).output();
      if (out.success) return python;
    } catch {
      // not installed
    }
  }
  return undefined;
}

// ---- Serving -----------------------------------------------------------------------------
function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

// Exactly what `deno task serve` runs (permissions and V8 flags), on loopback.
const SERVE_ARGS = [
  ...taskArgs("serve"),
  "--host",
  "127.0.0.1",
];
const BARE_ARGS = [
  "run",
  "--allow-net",
  "--allow-read=.",
  "--allow-env=PORT,REPLAY",
  "bench/bare_hono.ts",
];

function spawn(args: string[], port: number, env: Record<string, string> = {}): Deno.ChildProcess {
  return new Deno.Command(deno, {
    args,
    cwd: ROOT,
    env: { PORT: String(port), ...env },
    stdout: "null",
    stderr: "null",
  }).spawn();
}

/** Milliseconds from spawning `args` to the first 200 from `path`. */
async function coldStartMs(args: string[], path: string): Promise<number> {
  const port = freePort();
  const start = performance.now();
  const child = spawn(args, port);
  try {
    while (performance.now() - start < 30_000) {
      try {
        const res = await fetch(`http://127.0.0.1:${port}${path}`);
        await res.arrayBuffer();
        if (res.status === 200) return performance.now() - start;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    throw new Error(`no 200 from ${path} within 30 s`);
  } finally {
    child.kill("SIGTERM");
    await child.status;
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Set when a load test fell back to Deno's fetch as its client (no wrk on the machine). */
let fetchClient = false;
const FETCH_CLIENT_NOTE = "wrk was not found, so the load rows used Deno's fetch as the client; " +
  "it saturates before the server does (~9,000 req/s on 2 cores), so those rows and their " +
  "ratios measure the client, not the server: install wrk (apt-get install wrk) and rerun.";

async function load(url: string, connections: number, script?: string): Promise<LoadResult> {
  const seconds = QUICK ? 3 : 10;
  const wrk = await loadWithWrk(url, { connections, seconds, script });
  if (wrk || script) return wrk!;
  if (!fetchClient) console.warn(`warning: ${FETCH_CLIENT_NOTE}`);
  fetchClient = true;
  return await loadWithDeno([url], { connections, seconds, requests: QUICK ? 5_000 : 50_000 });
}

/** Status, headers (less those Deno sets) and base64 body of each path's response. */
async function record(base: string, paths: string[]) {
  const out = [];
  for (const path of paths) {
    const res = await fetch(`${base}${path}`);
    const body = new Uint8Array(await res.arrayBuffer());
    const headers = [...res.headers].filter(([name]) => !/^(content-length|date)$/.test(name));
    out.push({ status: res.status, headers, body: encodeBase64(body) });
  }
  return out;
}

/**
 * Requests per second of the bare Hono app (the reference for the serving ratios), and of the
 * same app sending each recorded response (the ceiling for it).
 */
async function bareRates(
  recorded: Awaited<ReturnType<typeof record>>,
): Promise<{ bare: LoadResult; replayed: LoadResult[] }> {
  const file = await Deno.makeTempFile({ suffix: ".json" });
  await Deno.writeTextFile(file, JSON.stringify(recorded));
  const port = freePort();
  const args = BARE_ARGS.map((a) => a === "--allow-read=." ? `--allow-read=.,${file}` : a);
  const child = spawn(args, port, { REPLAY: file });
  try {
    await coldWait(`http://127.0.0.1:${port}/`);
    const bare = await load(`http://127.0.0.1:${port}/`, 32);
    const replayed = [];
    for (let i = 0; i < recorded.length; i++) {
      replayed.push(await load(`http://127.0.0.1:${port}/replay/${i}`, 32));
    }
    return { bare, replayed };
  } finally {
    child.kill("SIGTERM");
    await child.status;
    await Deno.remove(file);
  }
}

/** Samples per second of models/mnist's predict alone on the Dense engine, 32 rows a batch. */
async function predictRate(): Promise<number> {
  const { loadRunner } = await import("../engine/runner.ts");
  const { generatorInputs, inputSpec } = await import("../format/generator_metadata.ts");
  const gen = await loadRunner(`${ROOT}models/mnist`);
  const n = 32, rows = generatorInputs(inputSpec(gen.metadata), 1, n);
  for (let i = 0; i < 20; i++) gen.predict(rows, n);
  let done = 0;
  const start = performance.now();
  while (performance.now() - start < 1000) {
    gen.predict(rows, n);
    done += n;
  }
  return done / ((performance.now() - start) / 1000);
}

async function coldWait(url: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    try {
      const res = await fetch(url);
      await res.body?.cancel();
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`no 200 from ${url}`);
}

async function servingBench() {
  const port = freePort();
  const child = spawn(SERVE_ARGS, port);
  const base = `http://127.0.0.1:${port}`;
  try {
    let status = "no answer";
    for (let i = 0; i < 300 && status !== "200"; i++) {
      try {
        const res = await fetch(`${base}/healthz`);
        status = `${res.status}`;
        await res.body?.cancel();
      } catch {
        await new Promise((r) => setTimeout(r, 20));
      }
    }
    if (status !== "200") {
      throw new Error(
        `the server did not become healthy (/healthz: ${status}); is models/mnist there?`,
      );
    }
    // Memory: peak RSS around request 1,000 against peak RSS around request 10,000 (single
    // readings swing with garbage collection).
    let done = 0;
    // One request mix throughout, so both windows see the same code paths and batch sizes.
    const mix = [`${base}/sample`, `${base}/sample?n=4&format=png`, `${base}/sample?n=16`];
    const rss = sampleRss(child.pid, () => done, 20);
    const warm = await loadWithDeno(mix, {
      connections: 16,
      requests: 10_000,
      seconds: 180,
      onResponse: () => done++,
    });
    await rss.stop();
    const rss1k = rss.peak(500, 1_500), rss10k = rss.peak(9_000, Infinity);
    const errors = Object.entries(warm.statuses).filter(([s]) => s !== "200");

    const health = await load(`${base}/healthz`, 32);
    const sample = await load(`${base}/sample?n=1`, 32);
    const cached = await load(`${base}/sample?n=1&seed=42`, 32);
    const fresh = (await loadWithWrk(`${base}/sample?n=1`, {
      connections: 32,
      seconds: QUICK ? 3 : 10,
      script: `${ROOT}/bench/fresh_seed.lua`,
    })) ?? sample;
    const png = await load(`${base}/sample?n=64&format=png`, 8);
    const recorded = await record(base, ["/healthz", "/sample?n=1&seed=42"]);
    const { bare, replayed: [healthCeiling, cachedCeiling] } = await bareRates(recorded);
    const vsBare = (r: LoadResult) => `${(r.perSecond / bare.perSecond).toFixed(2)}x the bare app`;
    const latency = (r: LoadResult) => `p50 ${r.p50Ms.toFixed(2)} ms, p99 ${r.p99Ms.toFixed(2)} ms`;
    /** A load-test row: requests/s, the ratio to the bare app, latency, and `more`. */
    const loadRow = (what: string, r: LoadResult, more = "") =>
      add("serve", what, `${r.perSecond.toFixed(0)} req/s`, `${vsBare(r)}; ${latency(r)}${more}`);
    /** A ceiling row: what a bare handler sending the same bytes gets, and our share of it. */
    const ceilingRow = (what: string, ceiling: LoadResult, ours: LoadResult, share: string) =>
      add(
        "serve",
        `ceiling: a bare Hono handler sending ${what}`,
        `${ceiling.perSecond.toFixed(0)} req/s`,
        `${vsBare(ceiling)}; ${share} ${(100 * ours.perSecond / ceiling.perSecond).toFixed(0)}%`,
      );
    add(
      "serve",
      'GET / of a bare Hono app ("ok")',
      `${bare.perSecond.toFixed(0)} req/s`,
      `p50 ${bare.p50Ms.toFixed(2)} ms (${bare.tool}, 32 connections); the reference below`,
    );
    loadRow("GET /healthz", health, ` (${health.tool}, 32 connections)`);
    loadRow("GET /sample?n=1&seed=42 (JSON, repeated seed)", cached);
    ceilingRow("/healthz's bytes and headers", healthCeiling, health, "edgegan's /healthz gets");
    ceilingRow(
      "that sample's bytes and headers",
      cachedCeiling,
      cached,
      "edgegan's repeated seed gets",
    );
    loadRow(
      "GET /sample?n=1&seed=<new each time> (JSON)",
      fresh,
      fresh === sample ? " (no wrk: unseeded requests)" : "",
    );
    const arithmetic = await predictRate();
    add(
      "serve",
      "arithmetic bound: the default G's predict alone, batches of 32",
      `${arithmetic.toFixed(0)} samples/s`,
      `${
        (arithmetic / bare.perSecond).toFixed(2)
      }x the bare app's req/s: fresh samples cannot go faster on one core`,
    );
    loadRow("GET /sample?n=1 (JSON, no seed)", sample);
    add(
      "serve",
      "GET /sample?n=64&format=png",
      `${(png.perSecond * 64).toFixed(0)} samples/s`,
      `${png.perSecond.toFixed(0)} req/s, p50 ${png.p50Ms.toFixed(2)} ms, p99 ${
        png.p99Ms.toFixed(2)
      } ms (8 connections)`,
    );
    add(
      "serve",
      "peak RSS near request 1,000 / 10,000",
      `${(rss1k / 1024).toFixed(1)} / ${(rss10k / 1024).toFixed(1)} MiB`,
      `${(100 * (rss10k - rss1k) / rss1k).toFixed(1)}% growth${
        errors.length ? `; non-200: ${JSON.stringify(errors)}` : ""
      }`,
    );
  } finally {
    child.kill("SIGTERM");
    await child.status;
  }

  const runs = QUICK ? 3 : 7;
  const ours: number[] = [], bare: number[] = [];
  for (let i = 0; i < runs; i++) {
    ours.push(await coldStartMs(SERVE_ARGS, "/sample?seed=1"));
    bare.push(await coldStartMs(BARE_ARGS, "/"));
  }
  add(
    "start",
    "spawn to first 200: edgegan GET /sample",
    `${median(ours).toFixed(0)} ms`,
    `median of ${runs}`,
  );
  add(
    "start",
    'spawn to first 200: bare Hono "ok"',
    `${median(bare).toFixed(0)} ms`,
    `edgegan is ${(median(ours) / median(bare)).toFixed(2)}x`,
  );
}

if (flags.only !== undefined && flags.only !== "serving") {
  exitUsage(`--only: got ${JSON.stringify(flags.only)}; accepts serving`);
}
// The table's path is checked before minutes of measuring, not after.
const out = flags.out ??
  (flags.only === "serving" ? "bench/RESULTS-serving.md" : "bench/RESULTS.md");
const outPath = out.startsWith("/") ? out : `${ROOT}/${out}`;
if (!(await Deno.stat(dirname(outPath)).then((s) => s.isDirectory, () => false))) {
  exitUsage(`--out: got ${JSON.stringify(out)}; accepts a file path in an existing folder`);
}
const header = await machine();
console.log(header.join("\n"));
const started = performance.now();
if (flags.only !== "serving") await trainingBench();
await servingBench();

const table = [
  "| group | measurement | result | notes |",
  "|---|---|---|---|",
  ...rows.map((r) => `| ${r.group} | ${r.what} | ${r.value} | ${r.note ?? ""} |`),
].join("\n");
const report = `# Benchmark results

Produced by \`deno task bench${flags.only ? ` --only ${flags.only}` : ""}\` (${
  ((performance.now() - started) / 1000).toFixed(0)
} s).${
  flags.only === "serving" ? "" : ` Training rows use the seed net and batch (\`--recipe seed\`:
G ${SEED.latent}-${SEED.gHidden.join("-")}-784, D 784-${
    SEED.dHidden.join("-")
  }-1, dropout 0.5 in both,
batch ${SEED.batch}, Adam), the same as the PyTorch peer, unless the row names another net.`
} Load tests run on 127.0.0.1 with the server and the client sharing the machine.${
  fetchClient ? `\n\n**${FETCH_CLIENT_NOTE}**` : ""
}

${header.join("\n")}

${table}
`;
await writeFileAtomic(outPath, new TextEncoder().encode(report));
console.log(`\nwritten to ${out}`);
if (flags.out === undefined) {
  console.log("the README's tables come from this file: run `deno task readme` to update them");
}
