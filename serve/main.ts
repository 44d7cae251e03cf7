/**
 * `deno task serve`: load the generator once, self-test it, and serve the app.
 *
 * If the model cannot be loaded or fails its self-test (weights hash, golden sample), the
 * server still starts, logs one line, and answers 503 with the reason on every model route:
 * it never serves output from a model it could not verify, and a deployment stays observable.
 */
import { loadEdgeGenerator } from "../models/edge_generator.ts";
import { ModelLoadError } from "../models/model_files.ts";
import type { ModelState } from "./app.ts";
import { loadPngEncoder, Sampler } from "./sampler.ts";

const DEFAULT_MODEL = new URL("../models/mnist", import.meta.url).pathname;
const DEFAULT_PORT = 8000;
const DEFAULT_HOST = "0.0.0.0";

function usage(message: string): never {
  console.error(`error: ${message}`);
  Deno.exit(2);
}

/**
 * The command line: --model, --port, --host (each "--flag value" or "--flag=value") and --help.
 * Parsed by hand rather than with node:util, whose import alone costs ~30 ms of cold start.
 */
function parseFlags(argv: string[]) {
  const values: { model?: string; port?: string; host?: string; help?: boolean } = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const match = arg.match(/^--([a-z-]+)(?:=(.*))?$/s);
    if (!match) {
      usage(`unexpected argument ${JSON.stringify(arg)}: flags take the form --name value`);
    }
    const [, name, inline] = match;
    if (name === "help") {
      if (inline !== undefined) usage("--help: takes no value");
      values.help = true;
    } else if (name === "model" || name === "port" || name === "host") {
      const value = inline ?? argv[++i];
      if (value === undefined) usage(`--${name}: needs a value`);
      values[name] = value;
    } else {
      usage(`--${name}: unknown flag (accepted: --model, --port, --host)`);
    }
  }
  if (values.help) {
    console.log(`Serve generated samples over HTTP.

Usage: deno task serve [--model DIR] [--port N] [--host ADDR]

  --model  saved generator folder (default models/mnist)
  --port   TCP port 0..65535; also from PORT (default ${DEFAULT_PORT})
  --host   address to listen on (default ${DEFAULT_HOST})`);
    Deno.exit(0);
  }
  const rawPort = values.port ?? Deno.env.get("PORT") ?? String(DEFAULT_PORT);
  const source = values.port !== undefined ? "--port" : "PORT";
  if (!/^\d{1,5}$/.test(rawPort) || Number(rawPort) > 65535) {
    usage(`${source}: got ${JSON.stringify(rawPort)}; accepts an integer 0..65535`);
  }
  const host = values.host ?? DEFAULT_HOST;
  if (!/^[\w.:-]+$/.test(host)) {
    usage(`--host: got ${JSON.stringify(host)}; accepts an IP address or host name`);
  }
  return { model: values.model ?? DEFAULT_MODEL, port: Number(rawPort), host };
}

async function loadState(dir: string): Promise<ModelState> {
  try {
    const loaded = await loadEdgeGenerator(dir);
    return { ready: true, sampler: new Sampler(loaded) };
  } catch (err) {
    if (!(err instanceof ModelLoadError)) throw err;
    console.error(`error: model not served: ${err.message}`);
    return { ready: false, reason: err.message };
  }
}

if (import.meta.main) {
  const flags = parseFlags(Deno.args);
  // The model's files are read and checked while Hono and the routes load (measured: ~10 ms
  // off the cold start).
  const [state, { createApp }] = await Promise.all([loadState(flags.model), import("./app.ts")]);
  const app = createApp(state);
  Deno.serve({
    hostname: flags.host,
    port: flags.port,
    onListen: ({ hostname, port }) => {
      const what = state.ready ? state.sampler.id : "no model (503)";
      console.log(`edgegan: serving ${what} on http://${hostname}:${port}/`);
      // Off the cold path: the PNG codec (node:zlib, 35-70 ms of blocking module evaluation)
      // loads a second after the server starts answering, or on the first PNG request if
      // that comes sooner. Loading it at once would stall the first request (measured: 60 ms).
      setTimeout(() => {
        loadPngEncoder().catch((err) => console.error(`error: PNG encoder: ${err.message}`));
      }, 1000);
    },
  }, app.fetch);
}
