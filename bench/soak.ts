/**
 * `deno task soak`: a bounded load test on loopback. Starts the server with the serve task's
 * flags, warms it up, then sends a mix of good and hostile requests from many connections for a
 * fixed time. Prints responses by status, latency percentiles, and the server's RSS and the
 * default model's memory (`memoryBytes` in /models) at start and end. Fails (exit 1) on any 5xx
 * other than a deliberate 503, on model-memory growth, or on RSS growth over 10% (peak RSS of the
 * second half of the run against the peak of the first half, since RSS swings with garbage
 * collection).
 *
 *   deno task soak [--seconds 30] [--connections 64] [--model models/mnist]
 */
import { exitUsage, parseCli } from "../cli/flags.ts";
import { percentile, sampleRss } from "./load.ts";
import { taskArgs } from "../cli/tasks.ts";

const ROOT = new URL("..", import.meta.url).pathname;

/** Good and hostile requests, cycled through by every connection. */
export const SOAK_PATHS = [
  "/sample",
  "/sample?n=4&seed=1",
  "/sample?n=16&format=png&scale=2",
  "/sample?n=64&seed=9&format=png",
  "/healthz",
  "/model",
  "/openapi.json",
  "/",
  "/sample?n=0",
  "/sample?n=abc",
  "/sample?seed=-1",
  "/sample?format=gif",
  "/sample?sead=1",
  "/nope",
  "/%2e%2e/%2e%2e/etc/passwd",
  `/sample?n=${"9".repeat(3000)}`,
];

export interface SoakResult {
  requests: number;
  statuses: Record<string, number>;
  p50Ms: number;
  p99Ms: number;
  rssStartKb: number;
  rssEndKb: number;
  /** The default model engine's memory (weights and buffers), from /models. */
  modelBytesStart: number;
  modelBytesEnd: number;
  failures: string[];
}

export async function runSoak(
  options: { seconds: number; connections: number; model?: string; warmup?: number },
): Promise<SoakResult> {
  const args = taskArgs("serve");
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  const child = new Deno.Command(Deno.execPath(), {
    args: [...args, "--host", "127.0.0.1", ...(options.model ? ["--model", options.model] : [])],
    cwd: ROOT,
    env: { PORT: String(port) },
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const base = `http://127.0.0.1:${port}`;
  const modelBytes = async () => {
    const list = await (await fetch(`${base}/models`)).json();
    return list.models.find((m: { name: string }) => m.name === list.default).memoryBytes as number;
  };
  try {
    for (let i = 0;; i++) {
      try {
        const res = await fetch(`${base}/healthz`);
        await res.body?.cancel();
        if (res.ok) break;
        throw new Error(`/healthz answered ${res.status}`);
      } catch (err) {
        if (i > 300) throw err;
        await new Promise((r) => setTimeout(r, 20));
      }
    }
    const hit = async (
      count: number,
      deadline: number,
      latencies: number[],
      statuses: Record<string, number>,
    ) => {
      let i = 0;
      const worker = async (w: number) => {
        while (i < count && performance.now() < deadline) {
          const path = SOAK_PATHS[(i++ + w) % SOAK_PATHS.length];
          const t = performance.now();
          const res = await fetch(base + path);
          await res.arrayBuffer();
          latencies.push(performance.now() - t);
          statuses[res.status] = (statuses[res.status] ?? 0) + 1;
        }
      };
      await Promise.all(Array.from({ length: options.connections }, (_, w) => worker(w)));
    };
    // Warm-up: JIT, caches, the wasm heap and V8's heap grow for a while under new load. Keep
    // warming in 1 s rounds (at least `warmup` requests, at most 15 s) until the peak RSS of a
    // round no longer rises by more than 2%, so the baseline is taken at steady state.
    await hit(options.warmup ?? 2000, Infinity, [], {});
    let previousPeak = 0;
    for (let round = 0; round < 15; round++) {
      const start = performance.now();
      const rss = sampleRss(child.pid, () => 0);
      await hit(Infinity, start + 1000, [], {});
      await rss.stop();
      const peak = rss.peak(0, Infinity);
      if (previousPeak && peak <= previousPeak * 1.02) break;
      previousPeak = Math.max(previousPeak, peak);
    }
    // RSS swings with garbage collection: compare the high-water marks of the first and the
    // second half of the run.
    const modelBytesStart = await modelBytes();
    const latencies: number[] = [];
    const statuses: Record<string, number> = {};
    const start = performance.now(), duration = options.seconds * 1000;
    const rss = sampleRss(child.pid, () => performance.now() - start);
    await hit(Infinity, start + duration, latencies, statuses);
    await rss.stop();
    const rssStartKb = rss.peak(0, duration / 2), rssEndKb = rss.peak(duration / 2, Infinity);
    const modelBytesEnd = await modelBytes();
    latencies.sort((a, b) => a - b);
    const failures: string[] = [];
    for (const [status, count] of Object.entries(statuses)) {
      if (Number(status) >= 500 && status !== "503") {
        failures.push(`${count} responses with status ${status}`);
      }
    }
    if (modelBytesEnd > modelBytesStart) {
      failures.push(`model memory grew from ${modelBytesStart} to ${modelBytesEnd} bytes`);
    }
    if (rssEndKb > rssStartKb * 1.1) {
      failures.push(`RSS grew ${(100 * (rssEndKb / rssStartKb - 1)).toFixed(1)}% (limit 10%)`);
    }
    return {
      requests: latencies.length,
      statuses,
      p50Ms: percentile(latencies, 50),
      p99Ms: percentile(latencies, 99),
      rssStartKb,
      rssEndKb,
      modelBytesStart,
      modelBytesEnd,
      failures,
    };
  } finally {
    child.kill("SIGTERM");
    await child.status;
    await child.stderr.cancel().catch(() => {});
  }
}

if (import.meta.main) {
  const values = parseCli(
    Deno.args,
    "deno task soak: load the server with mixed requests and check its memory stays bounded.",
    {
      seconds: { type: "string", default: "30", accepts: "a number in (0, 600]" },
      connections: { type: "string", default: "64", accepts: "an integer 1..1024" },
      model: { type: "string", accepts: "a model folder to serve (default: every model)" },
    },
  );
  const seconds = Number(values.seconds), connections = Number(values.connections);
  if (!(seconds > 0 && seconds <= 600)) {
    exitUsage(`--seconds: got ${JSON.stringify(values.seconds)}; accepts a number in (0, 600]`);
  }
  if (!(Number.isInteger(connections) && connections >= 1 && connections <= 1024)) {
    exitUsage(
      `--connections: got ${JSON.stringify(values.connections)}; accepts an integer 1..1024`,
    );
  }
  const r = await runSoak({ seconds, connections, model: values.model });
  console.log(
    `soak: ${r.requests} requests in ${seconds} s over ${connections} connections (${
      (r.requests / seconds).toFixed(0)
    } req/s)`,
  );
  console.log(
    `status counts: ${Object.entries(r.statuses).map(([s, n]) => `${s}: ${n}`).join(", ")}`,
  );
  console.log(`latency: p50 ${r.p50Ms.toFixed(2)} ms, p99 ${r.p99Ms.toFixed(2)} ms`);
  console.log(
    `RSS peak, first half -> second half: ${(r.rssStartKb / 1024).toFixed(1)} MiB -> ${
      (r.rssEndKb / 1024).toFixed(1)
    } MiB`,
  );
  console.log(`model memory: ${r.modelBytesStart} -> ${r.modelBytesEnd} bytes`);
  if (r.failures.length) {
    console.log(`FAILED: ${r.failures.join("; ")}`);
    Deno.exit(1);
  }
  console.log("ok");
}
