/**
 * `deno task import --from path/to/model.json --name NAME [--range -1,1] [--labels 0-9]`: copies
 * a tfjs Layers generator trained elsewhere into `models/NAME` with edgegan's metadata (shapes
 * from the topology, the value range, a golden sample computed with tfjs), so the server offers
 * it. What edgegan cannot serve is refused with one line: not one latent input, an output that
 * is neither a grey image nor a 2-D point, a layer tfjs does not know.
 *
 * ```ts
 * const metadata = await importGenerator({ from: "dcgan/model.json", name: "dcgan" });
 * ```
 */
import { parseFlags, UsageError } from "../cli/flags.ts";
import { dirname, normalize } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import { initBackend } from "./backend.ts";
import { saveGenerator } from "./generator_files.ts";
import type { GeneratorMetadata } from "../format/generator_metadata.ts";

/** A model edgegan cannot serve, or files it cannot read; the CLI prints it as one line. */
export class ImportError extends Error {
  override name = "ImportError";
}

export interface ImportOptions {
  /** The foreign model.json; its weights files are read from the same folder. */
  from: string;
  /** Folder name under `modelsDir`. */
  name: string;
  /** Bounds of the output; default [-1, 1] for images and none for points. */
  range?: [number, number] | null;
  /** Label classes of a conditional generator (its input is latent, then the one-hot label). */
  classes?: number;
  modelsDir?: string;
  /** Replace an existing folder of that name. */
  force?: boolean;
}

const NAME = /^[a-z0-9][a-z0-9_-]{0,63}$/;

/** Reads the foreign files and builds the model with tfjs-layers. */
async function readForeign(from: string): Promise<tfl.LayersModel> {
  let json: {
    modelTopology?: unknown;
    weightsManifest?: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
  };
  try {
    json = JSON.parse(await Deno.readTextFile(from));
  } catch (err) {
    const why = err instanceof Deno.errors.NotFound ? "file not found" : (err as Error).message;
    throw new ImportError(`--from ${from}: ${why}`);
  }
  if (typeof json?.modelTopology !== "object" || !Array.isArray(json.weightsManifest)) {
    throw new ImportError(
      `--from ${from}: not a tfjs Layers model.json (needs modelTopology and weightsManifest)`,
    );
  }
  const chunks: Uint8Array[] = [];
  for (const path of json.weightsManifest.flatMap((group) => group.paths)) {
    if (typeof path !== "string" || path.startsWith("/") || path.split("/").includes("..")) {
      throw new ImportError(
        `--from ${from}: weights path ${JSON.stringify(path)} leaves its folder`,
      );
    }
    const file = normalize(`${dirname(from)}/${path}`);
    try {
      chunks.push(await Deno.readFile(file));
    } catch (err) {
      const why = err instanceof Deno.errors.NotFound ? "file not found" : (err as Error).message;
      throw new ImportError(`${file}: ${why}`);
    }
  }
  const weights = new Uint8Array(chunks.reduce((s, c) => s + c.length, 0));
  chunks.reduce((offset, c) => (weights.set(c, offset), offset + c.length), 0);
  try {
    return await tfl.loadLayersModel(tf.io.fromMemory({
      modelTopology: json.modelTopology as tf.io.ModelArtifacts["modelTopology"],
      weightSpecs: json.weightsManifest.flatMap((group) => group.weights),
      weightData: weights.buffer,
    }));
  } catch (err) {
    const message = (err as Error).message;
    const unknown = /Unknown layer: (\w+)/.exec(message);
    if (unknown) {
      throw new ImportError(
        `--from ${from}: unknown layer ${unknown[1]}; edgegan serves the layers tfjs-layers knows`,
      );
    }
    throw new ImportError(`--from ${from}: tfjs cannot build the model: ${message.split("\n")[0]}`);
  }
}

/** The highest Dropout rate in the model (0 when it has none); inference never applies it. */
function dropoutRate(model: tfl.LayersModel): number {
  return model.layers.reduce((max, layer) => {
    const rate = (layer.getConfig() as { rate?: unknown }).rate;
    return layer.getClassName() === "Dropout" && typeof rate === "number"
      ? Math.max(max, rate)
      : max;
  }, 0);
}

/** Imports `options.from` into `<modelsDir>/<name>`; returns the metadata written. */
export async function importGenerator(options: ImportOptions): Promise<GeneratorMetadata> {
  const { from, name, classes = 0, modelsDir = "models" } = options;
  if (!NAME.test(name)) {
    throw new UsageError(
      `--name: got ${
        JSON.stringify(name)
      }; accepts lower-case letters, digits, - and _ (a folder name)`,
    );
  }
  const dir = `${modelsDir}/${name}`;
  const exists = await Deno.stat(dir).then(() => true, () => false);
  if (exists && !options.force) {
    throw new UsageError(`--name: ${dir} exists; choose another name or pass --force`);
  }
  await initBackend("wasm");
  const model = await readForeign(from);
  try {
    if (model.inputs.length !== 1) {
      throw new ImportError(
        `the model has ${model.inputs.length} inputs; edgegan serves generators with one latent input`,
      );
    }
    if (model.outputs.length !== 1) {
      throw new ImportError(`the model has ${model.outputs.length} outputs; edgegan serves one`);
    }
    const inShape = model.inputs[0].shape;
    if (inShape.length !== 2 || typeof inShape[1] !== "number" || inShape[1] <= classes) {
      throw new ImportError(
        `input shape ${JSON.stringify(inShape)} is not a latent vector [null, n]${
          classes ? ` with ${classes} label columns after it` : ""
        }`,
      );
    }
    const dims = model.outputs[0].shape.slice(1);
    const image = (dims.length === 2 || (dims.length === 3 && dims[2] === 1)) &&
      dims.every((d) => typeof d === "number" && d > 0);
    const point = dims.length === 1 && dims[0] === 2;
    if (!image && !point) {
      throw new ImportError(
        `output shape ${
          JSON.stringify(model.outputs[0].shape)
        } is neither a grey image [null, h, w(, 1)] nor a 2-D point [null, 2]`,
      );
    }
    const range = options.range !== undefined
      ? options.range
      : image
      ? [-1, 1] as [number, number]
      : null;
    if (image && range === null) {
      throw new UsageError("--range: an image needs its value range, e.g. -1,1 or 0,1");
    }
    return await saveGenerator(dir, model, {
      name,
      dataset: "imported",
      outputShape: (image ? dims.slice(0, 2) : dims) as number[],
      outputRange: range,
      latentSize: inShape[1] - classes,
      ...(classes ? { labels: Array.from({ length: classes }, (_, i) => i) } : {}),
      dropout: { generator: dropoutRate(model), discriminator: "unknown" },
      hyperparameters: { importedFrom: from },
      steps: 0,
      seed: 0,
      wallTimeS: 0,
      backend: "imported",
    });
  } finally {
    model.dispose();
  }
}

/** `--range`: "lo,hi" with lo < hi, or "none". */
function parseRange(v: string): [number, number] | null {
  if (v === "none") return null;
  const parts = v.split(",").map((p) => p.trim());
  const [lo, hi] = parts.map(Number);
  if (
    parts.length !== 2 || parts.some((p) => p === "") || !(lo < hi) || !Number.isFinite(hi - lo)
  ) {
    throw new UsageError(
      `--range: got ${JSON.stringify(v)}; accepts LO,HI with LO < HI (e.g. -1,1), or none`,
    );
  }
  return [lo, hi];
}

/** `--labels`: "0-K" for K+1 classes 0..K. */
function parseLabels(v: string): number {
  const m = /^0-(\d+)$/.exec(v.trim());
  const k = m ? Number(m[1]) + 1 : NaN;
  if (!(k >= 2 && k <= 1000)) {
    throw new UsageError(
      `--labels: got ${JSON.stringify(v)}; accepts 0-K for classes 0..K (e.g. 0-9)`,
    );
  }
  return k;
}

export const IMPORT_HELP = `Copy a tfjs Layers generator into models/NAME with edgegan's metadata.

Usage: deno task import --from path/to/model.json --name NAME [--range -1,1] [--labels 0-9] [--force]

  --from    the generator's model.json (tfjs Layers format; weights beside it)
  --name    folder name under models/ (lower-case letters, digits, - and _)
  --range   the output's value range, LO,HI or none (default -1,1 for images, none for points)
  --labels  0-K: a conditional generator whose input is the latent then a one-hot label
  --force   replace models/NAME if it exists`;

async function main(argv: string[]): Promise<number> {
  try {
    const values = parseFlags(argv, {
      from: { type: "string", accepts: "a path to a model.json" },
      name: { type: "string", accepts: "a folder name under models/" },
      range: { type: "string", accepts: "LO,HI or none" },
      labels: { type: "string", accepts: "0-K" },
      force: { type: "boolean", accepts: "replace models/NAME" },
      help: { type: "boolean", short: "h", accepts: "this text" },
    });
    if (values.help) {
      console.log(IMPORT_HELP);
      return 0;
    }
    if (!values.from) {
      throw new UsageError("--from: required; accepts a path to a model.json");
    }
    if (!values.name) {
      throw new UsageError("--name: required; accepts a folder name, e.g. dcgan");
    }
    const metadata = await importGenerator({
      from: values.from,
      name: values.name,
      range: values.range === undefined ? undefined : parseRange(values.range),
      classes: values.labels === undefined ? 0 : parseLabels(values.labels),
      force: values.force,
    });
    console.log(
      `imported ${values.from} as models/${metadata.name}: latent ${metadata.latent.size}, output [${metadata.outputShape}], range ${
        JSON.stringify(metadata.outputRange)
      }; serve it with: deno task serve --model models/${metadata.name}`,
    );
    return 0;
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`error: ${err.message}`);
      return 2;
    }
    if (err instanceof ImportError) {
      console.error(`error: ${err.message}`);
      return 1;
    }
    throw err;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
