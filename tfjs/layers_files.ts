/**
 * Reading and writing tfjs Layers models (`model.json` + one content-named weights file) with
 * edgegan's metadata in `userDefinedMetadata.edgegan`, atomically and with a weights hash.
 * The generator (generator_files.ts) and the evaluation classifier both use this format.
 *
 * ```ts
 * await writeLayersModel("models/x", model, (sha) => ({ format: "…", weightsSha256: sha }));
 * const { model, metadata } = await readLayersModel("models/x", checkMyMetadata);
 * ```
 */
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import { removeStaleTemps, writeFileAtomic } from "../format/atomic.ts";
import {
  type ModelJson,
  ModelLoadError,
  readModelJson,
  readWeights,
  sha256Hex,
} from "../format/model_files.ts";

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
  const weights = await readWeights(dir, json);
  return { model: await buildLayersModel(jsonPath, json, weights), json };
}

/** The tfjs model of a checked `model.json` and its weights; a `ModelLoadError` if tfjs cannot. */
export async function buildLayersModel(
  jsonPath: string,
  json: ModelJson,
  weights: Uint8Array,
): Promise<tfl.LayersModel> {
  try {
    return await tfl.loadLayersModel(tf.io.fromMemory({
      modelTopology: json.modelTopology,
      weightSpecs: json.weightsManifest.flatMap((group) => group.weights),
      // A view's own bytes: the buffer may hold more than the weights.
      weightData: weights.byteLength === weights.buffer.byteLength
        ? weights.buffer as ArrayBuffer
        : weights.slice().buffer,
      userDefinedMetadata: json.userDefinedMetadata,
    }));
  } catch (err) {
    throw new ModelLoadError(jsonPath, `tfjs cannot build the model: ${(err as Error).message}`);
  }
}
