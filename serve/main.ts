/**
 * `deno task serve`: load the generator once, self-test it, and serve the app.
 *
 * If the model cannot be loaded or fails its self-test (weights hash, golden sample), the
 * server still starts, logs one line, and answers 503 with the reason on every model route:
 * it never serves output from a model it could not verify, and a deployment stays observable.
 */
import { parseArgs } from "node:util";
import { initBackend } from "../models/backend.ts";
import { loadGenerator, ModelLoadError } from "../models/generator.ts";
import { createApp, type ModelState } from "./app.ts";
import { Sampler } from "./sampler.ts";

const DEFAULT_MODEL = new URL("../models/mnist", import.meta.url).pathname;
const DEFAULT_PORT = 8000;
const DEFAULT_HOST = "0.0.0.0";

function usage(message: string): never {
  console.error(`error: ${message}`);
  Deno.exit(2);
}

function parseFlags(argv: string[]) {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        model: { type: "string" },
        port: { type: "string" },
        host: { type: "string" },
        help: { type: "boolean" },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    const unknown = (err as Error).message.match(/Unknown option '([^']+)'/);
    usage(
      unknown
        ? `${unknown[1]}: unknown flag (accepted: --model, --port, --host)`
        : (err as Error).message.split("\n")[0],
    );
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
    const loaded = await loadGenerator(dir);
    return { ready: true, sampler: new Sampler(loaded) };
  } catch (err) {
    if (!(err instanceof ModelLoadError)) throw err;
    console.error(`error: model not served: ${err.message}`);
    return { ready: false, reason: err.message };
  }
}

if (import.meta.main) {
  const flags = parseFlags(Deno.args);
  await initBackend("wasm");
  const state = await loadState(flags.model);
  const app = createApp(state);
  Deno.serve({
    hostname: flags.host,
    port: flags.port,
    onListen: ({ hostname, port }) => {
      const what = state.ready ? state.sampler.id : "no model (503)";
      console.log(`edgegan: serving ${what} on http://${hostname}:${port}/`);
    },
  }, app.fetch);
}
