/**
 * Reading and writing tfjs Layers models (`model.json` + one content-named weights file) with
 * edgegan's metadata in `userDefinedMetadata.edgegan`, atomically and with a weights hash.
 * The generator (generator.ts) and the evaluation classifier both use this format.
 *
 * ```ts
 * await writeLayersModel("models/x", model, (sha) => ({ format: "…", weightsSha256: sha }));
 * const { model, metadata } = await readLayersModel("models/x", checkMyMetadata);
 * ```
 */
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import { removeStaleTemps, writeFileAtomic } from "./atomic.ts";

/** A model folder that cannot be used; `file` is the culprit, `message` says why. */
export class ModelLoadError extends Error {
  override name = "ModelLoadError";
  constructor(readonly file: string, problem: string) {
    super(`${file}: ${problem}`);
  }
}

export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** The model's weights as saved, and their sha256. */
export async function modelWeights(model: tfl.LayersModel) {
  let artifacts: tf.io.ModelArtifacts | undefined;
  await model.save(tf.io.withSaveHandler((a) => {
    artifacts = a;
    return Promise.resolve({ modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(a) });
  }));
  if (!artifacts?.weightData || !artifacts.weightSpecs) throw new Error("model has no weights");
  const weights = new Uint8Array(tf.io.concatenateArrayBuffers(artifacts.weightData));
  return { artifacts, weights, weightsSha256: await sha256Hex(weights) };
}

/**
 * Writes a model and its metadata into `dir` atomically: the weights go to a new content-named
 * file first, then `model.json` (which names it) is replaced, then older weights files are
 * removed. A crash at any point leaves a loadable model, old or new.
 */
export async function writeLayersModel(
  dir: string,
  saved: Awaited<ReturnType<typeof modelWeights>>,
  metadata: object,
): Promise<void> {
  const { artifacts, weights, weightsSha256 } = saved;
  const weightsFile = `weights-${weightsSha256.slice(0, 12)}.bin`;
  const modelJson = {
    format: "layers-model",
    generatedBy: artifacts.generatedBy,
    convertedBy: null,
    modelTopology: artifacts.modelTopology,
    weightsManifest: [{ paths: [weightsFile], weights: artifacts.weightSpecs }],
    userDefinedMetadata: { edgegan: metadata },
  };
  await Deno.mkdir(dir, { recursive: true });
  await writeFileAtomic(`${dir}/${weightsFile}`, weights);
  await writeFileAtomic(
    `${dir}/model.json`,
    new TextEncoder().encode(JSON.stringify(modelJson) + "\n"),
  );
  for await (const entry of Deno.readDir(dir)) {
    if (
      entry.isFile && /^weights-[0-9a-f]{12}\.bin$/.test(entry.name) && entry.name !== weightsFile
    ) {
      await Deno.remove(`${dir}/${entry.name}`);
    }
  }
  await removeStaleTemps(dir);
}

export interface ModelJson {
  format?: string;
  modelTopology: object;
  weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
  userDefinedMetadata: { edgegan: Record<string, unknown> };
  [key: string]: unknown;
}

/** Reads and checks `model.json`; `checkMetadata` throws a ModelLoadError for bad metadata. */
export async function readModelJson(
  path: string,
  checkMetadata: (path: string, meta: unknown) => void,
): Promise<ModelJson> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) throw new ModelLoadError(path, "file not found");
    throw new ModelLoadError(path, `cannot read: ${(err as Error).message}`);
  }
  let json: ModelJson;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ModelLoadError(path, `not valid JSON (${(err as Error).message})`);
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new ModelLoadError(path, "not a JSON object");
  }
  if (json.format !== "layers-model" || typeof json.modelTopology !== "object") {
    throw new ModelLoadError(path, 'not a tfjs Layers model (format must be "layers-model")');
  }
  if (!Array.isArray(json.weightsManifest) || json.weightsManifest.length === 0) {
    throw new ModelLoadError(path, "weightsManifest is missing or empty");
  }
  const meta = json.userDefinedMetadata?.edgegan;
  if (typeof meta !== "object" || meta === null) {
    throw new ModelLoadError(path, "has no edgegan metadata (userDefinedMetadata.edgegan)");
  }
  if (typeof meta.weightsSha256 !== "string" || !/^[0-9a-f]{64}$/.test(meta.weightsSha256)) {
    throw new ModelLoadError(path, "metadata weightsSha256 must be 64 hex digits");
  }
  checkMetadata(path, meta);
  return json;
}

/**
 * Loads a model folder: model.json (checked), the weights (hash checked against the metadata),
 * and the tfjs model. Every failure is a `ModelLoadError` naming the file.
 */
export async function readLayersModel(
  dir: string,
  checkMetadata: (path: string, meta: unknown) => void,
): Promise<{ model: tfl.LayersModel; json: ModelJson }> {
  const jsonPath = `${dir}/model.json`;
  const json = await readModelJson(jsonPath, checkMetadata);
  const expected = json.userDefinedMetadata.edgegan.weightsSha256 as string;
  const paths = json.weightsManifest.flatMap((group) => group.paths);
  const chunks: Uint8Array[] = [];
  for (const name of paths) {
    if (typeof name !== "string" || !/^[\w.-]+$/.test(name) || name.startsWith(".")) {
      throw new ModelLoadError(
        jsonPath,
        `weights path ${JSON.stringify(name)} must be a plain file name`,
      );
    }
    try {
      chunks.push(await Deno.readFile(`${dir}/${name}`));
    } catch (err) {
      const problem = err instanceof Deno.errors.NotFound
        ? "file not found"
        : (err as Error).message;
      throw new ModelLoadError(`${dir}/${name}`, problem);
    }
  }
  const weights = new Uint8Array(chunks.reduce((s, c) => s + c.length, 0));
  let offset = 0;
  for (const c of chunks) {
    weights.set(c, offset);
    offset += c.length;
  }
  const actual = await sha256Hex(weights);
  if (actual !== expected) {
    throw new ModelLoadError(
      `${dir}/${paths.join(",")}`,
      `sha256 ${actual.slice(0, 12)}… does not match the metadata's ${
        expected.slice(0, 12)
      }… (truncated or altered)`,
    );
  }
  try {
    const model = await tfl.loadLayersModel(tf.io.fromMemory({
      modelTopology: json.modelTopology,
      weightSpecs: json.weightsManifest.flatMap((group) => group.weights),
      weightData: weights.buffer,
      userDefinedMetadata: json.userDefinedMetadata,
    }));
    return { model, json };
  } catch (err) {
    throw new ModelLoadError(jsonPath, `tfjs cannot build the model: ${(err as Error).message}`);
  }
}

/** Rewrites only the metadata of a saved model (e.g. to add evaluation metrics), atomically. */
export async function updateMetadata<M>(
  dir: string,
  checkMetadata: (path: string, meta: unknown) => void,
  change: (metadata: M) => M,
): Promise<void> {
  const path = `${dir}/model.json`;
  const json = await readModelJson(path, checkMetadata);
  json.userDefinedMetadata = {
    edgegan: change(json.userDefinedMetadata.edgegan as M) as Record<string, unknown>,
  };
  await writeFileAtomic(path, new TextEncoder().encode(JSON.stringify(json) + "\n"));
}
