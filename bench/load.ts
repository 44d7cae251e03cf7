/**
 * A small HTTP load generator for loopback benchmarks: `connections` concurrent clients issue
 * requests until `requests` are done or `seconds` pass, whichever is first. Bounded in both.
 */
export interface LoadResult {
  requests: number;
  seconds: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** Responses by status code. */
  statuses: Record<number, number>;
  tool: string;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

export async function loadWithDeno(
  urls: string[] | (() => string),
  options: { connections: number; requests: number; seconds: number; onResponse?: () => void },
): Promise<LoadResult> {
  const pick = typeof urls === "function" ? urls : (() => {
    let i = 0;
    return () => urls[i++ % urls.length];
  })();
  const latencies: number[] = [];
  const statuses: Record<number, number> = {};
  const deadline = performance.now() + options.seconds * 1000;
  let issued = 0;
  const start = performance.now();
  const worker = async () => {
    while (issued < options.requests && performance.now() < deadline) {
      issued++;
      const t = performance.now();
      const res = await fetch(pick());
      await res.arrayBuffer();
      latencies.push(performance.now() - t);
      statuses[res.status] = (statuses[res.status] ?? 0) + 1;
      options.onResponse?.();
    }
  };
  await Promise.all(Array.from({ length: options.connections }, worker));
  const seconds = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    requests: latencies.length,
    seconds,
    perSecond: latencies.length / seconds,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    statuses,
    tool: "deno fetch",
  };
}

/** Runs wrk when installed (it generates load more cheaply than a JS client); else undefined. */
export async function loadWithWrk(
  url: string,
  options: { connections: number; seconds: number; script?: string },
): Promise<LoadResult | undefined> {
  let out;
  const script = options.script ? ["-s", options.script] : [];
  try {
    out = await new Deno.Command("wrk", {
      args: [
        "-t1",
        `-c${options.connections}`,
        `-d${options.seconds}s`,
        "--latency",
        ...script,
        url,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
  } catch {
    return undefined;
  }
  if (!out.success) return undefined;
  const text = new TextDecoder().decode(out.stdout);
  const ms = (label: string) => {
    const m = text.match(new RegExp(`^\\s*${label}%\\s+([\\d.]+)(us|ms|s)`, "m"));
    if (!m) return NaN;
    return Number(m[1]) * (m[2] === "us" ? 1e-3 : m[2] === "s" ? 1e3 : 1);
  };
  const total = Number(text.match(/(\d+) requests in/)?.[1] ?? NaN);
  const non2xx = Number(text.match(/Non-2xx or 3xx responses: (\d+)/)?.[1] ?? 0);
  return {
    requests: total,
    seconds: options.seconds,
    perSecond: Number(text.match(/Requests\/sec:\s+([\d.]+)/)?.[1] ?? NaN),
    p50Ms: ms("50"),
    p99Ms: ms("99"),
    statuses: non2xx ? { 200: total - non2xx, 0: non2xx } : { 200: total },
    tool: "wrk",
  };
}

/** A process's resident set size in KiB (Linux /proc). */
export async function rssKb(pid: number): Promise<number> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  return Number(status.match(/VmRSS:\s+(\d+)/)?.[1] ?? NaN);
}

/**
 * Samples a process's RSS every `intervalMs` until stopped, tagging each sample with `progress()`
 * (e.g. requests done). RSS swings with garbage collection, so leak checks compare high-water
 * marks of windows rather than two single readings.
 */
export function sampleRss(pid: number, progress: () => number, intervalMs = 100) {
  const samples: { progress: number; kb: number }[] = [];
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      samples.push({ progress: progress(), kb: await rssKb(pid) });
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  })();
  return {
    samples,
    async stop() {
      stopped = true;
      await loop;
      return samples;
    },
    /** The highest RSS seen while progress was within [from, to). */
    peak(from: number, to: number): number {
      const inWindow = samples.filter((s) => s.progress >= from && s.progress < to).map((s) =>
        s.kb
      );
      return inWindow.length ? Math.max(...inWindow) : NaN;
    },
  };
}
