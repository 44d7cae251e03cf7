/**
 * `deno task serve`: serve every generator under models/ (or those named), each loaded once and
 * self-tested. The default model loads while the server starts listening, and the startup line
 * is printed once it is ready; the others load after the first response (a request for one that
 * is still loading waits for it).
 *
 * If a model cannot be loaded or fails its self-test (weights hash, golden sample), the server
 * still starts, logs one line, and answers 503 with the reason for that model while the others
 * keep serving: it never serves output from a model it could not verify, and a deployment
 * stays observable.
 */
import { loadRunner } from "../engine/runner.ts";
import { ModelLoadError } from "../format/model_files.ts";
import { FORMAT_NAME } from "../format/generator_metadata.ts";
import type { ModelState } from "./app.ts";
import { loadPngEncoder, Sampler } from "./sampler.ts";
import { nextTask } from "./queue.ts";
import { exitUsage, parseCli } from "../cli/flags.ts";

const MODELS_DIR = new URL("../models/", import.meta.url).pathname;
const DEFAULT_NAME = "mnist";
const DEFAULT_PORT = 8000;
const DEFAULT_HOST = "0.0.0.0";

const FLAGS = {
  models: {
    type: "string",
    accepts: "generator folders under models/, comma-separated (default: all of them)",
  },
  default: {
    type: "string",
    accepts: `the model used without ?model= (default ${DEFAULT_NAME}, else the first)`,
  },
  model: { type: "string", accepts: "serve only this saved generator folder (any path)" },
  port: { type: "string", accepts: `TCP port 0..65535; also from PORT (default ${DEFAULT_PORT})` },
  host: { type: "string", accepts: `the address to listen on (default ${DEFAULT_HOST})` },
} as const;

/** The command line, checked: one line naming the flag and exit 2 on bad input. */
function parseServeFlags(argv: string[]) {
  const values = parseCli(argv, "deno task serve: serve generated samples over HTTP.", FLAGS);
  const rawPort = values.port ?? Deno.env.get("PORT") ?? String(DEFAULT_PORT);
  const source = values.port !== undefined ? "--port" : "PORT";
  if (!/^\d{1,5}$/.test(rawPort) || Number(rawPort) > 65535) {
    exitUsage(`${source}: got ${JSON.stringify(rawPort)}; accepts an integer 0..65535`);
  }
  const host = values.host ?? DEFAULT_HOST;
  if (!/^[\w.:-]+$/.test(host)) {
    exitUsage(`--host: got ${JSON.stringify(host)}; accepts an IP address or host name`);
  }
  if (values.model !== undefined && (values.models !== undefined || values.default !== undefined)) {
    exitUsage("--model: serves one folder; use --models and --default for several");
  }
  return { ...values, port: Number(rawPort), host };
}

/** A folder holding an edgegan generator (the classifier's folder has another format). */
function isGenerator(dir: string): boolean {
  try {
    const json = JSON.parse(Deno.readTextFileSync(`${dir}/model.json`));
    return json?.userDefinedMetadata?.edgegan?.format === FORMAT_NAME;
  } catch {
    return false;
  }
}

/** The folders to serve, by model name; exits 2 on a name the command line got wrong. */
function modelFolders(
  flags: ReturnType<typeof parseServeFlags>,
): { dirs: Map<string, string>; defaultName: string } {
  if (flags.model !== undefined) {
    const dir = flags.model.replace(/\/+$/, "");
    if (!isGenerator(dir)) {
      exitUsage(`--model: ${dir} holds no edgegan generator (no model.json of that format)`);
    }
    const name = dir.split("/").pop()!;
    return { dirs: new Map([[name, dir]]), defaultName: name };
  }
  const all = [...Deno.readDirSync(MODELS_DIR)].filter((e) => e.isDirectory)
    .map((e) => e.name).filter((name) => isGenerator(`${MODELS_DIR}${name}`)).sort();
  let names = all;
  if (flags.models !== undefined) {
    names = flags.models.split(",").map((n) => n.trim()).filter(Boolean);
    const missing = names.find((n) => !all.includes(n));
    if (missing !== undefined || names.length === 0) {
      exitUsage(
        `--models: got ${
          JSON.stringify(missing ?? flags.models)
        }; accepts generator folders under models/: ${all.join(", ")}`,
      );
    }
  }
  if (names.length === 0) exitUsage(`no generator folders under ${MODELS_DIR}`);
  const defaultName = flags.default ?? (names.includes(DEFAULT_NAME) ? DEFAULT_NAME : names[0]);
  if (!names.includes(defaultName)) {
    exitUsage(
      `--default: got ${JSON.stringify(defaultName)}; accepts one of the served models: ${
        names.join(", ")
      }`,
    );
  }
  return { dirs: new Map(names.map((n) => [n, `${MODELS_DIR}${n}`])), defaultName };
}

async function loadState(dir: string): Promise<ModelState> {
  try {
    const loaded = await loadRunner(dir);
    return { ready: true, sampler: new Sampler(loaded) };
  } catch (err) {
    if (!(err instanceof ModelLoadError)) throw err;
    console.error(`error: model not served: ${err.message}`);
    return { ready: false, reason: err.message };
  }
}

if (import.meta.main) {
  const flags = parseServeFlags(Deno.args);
  const { dirs, defaultName } = modelFolders(flags);
  // The default model loads while Hono and the routes load and the server starts listening (its
  // file reads and hash run off the main thread); a request meanwhile waits for it, and /healthz
  // answers 503 "loading". The others load after the first response, or on first use.
  const first = loadState(dirs.get(defaultName)!);
  const { createApp, ServedSet } = await import("./app.ts");
  const others = [...dirs.keys()].filter((name) => name !== defaultName);
  const served = new ServedSet({
    models: [...dirs.keys()].map((name) => ({
      name,
      state: name === defaultName ? first : () => loadState(dirs.get(name)!),
    })),
    defaultName,
  });
  const app = createApp(served);
  // Work kept off the first request: the PNG codec (node:zlib, 35-70 ms of blocking module
  // evaluation) a second later, or on the first PNG request if that comes sooner (loading it at
  // once stalled the first request by 60 ms), and the other models one after another. It is
  // scheduled once the first response is out, because Deno's first setTimeout loads its timer
  // modules (~5 ms, measured) and that would delay the first answer.
  let background: (() => void) | undefined = () => {
    setTimeout(() => {
      loadPngEncoder().catch((err) => console.error(`error: PNG encoder: ${err.message}`));
    }, 1000);
    setTimeout(async () => {
      for (const name of others) await served.entries.get(name)!.load();
    }, 200);
  };
  const listening = Promise.withResolvers<Deno.NetAddr>();
  Deno.serve(
    { hostname: flags.host, port: flags.port, onListen: listening.resolve },
    (req, info) => {
      const res = app.fetch(req, info);
      if (background) {
        const start = background;
        background = undefined;
        Promise.resolve(res).finally(() => nextTask(start));
      }
      return res;
    },
  );
  const [state, { hostname, port }] = await Promise.all([first, listening.promise]);
  const what = state.ready ? state.sampler.id : "no model (503)";
  const more = others.length ? ` (default; also ${others.join(", ")})` : "";
  console.log(`edgegan: serving ${what}${more} on http://${hostname}:${port}/`);
}
