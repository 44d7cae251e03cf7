/**
 * The saved-generator format: the one module that writes and reads `models/<name>/`.
 *
 * A saved generator is a standard tfjs Layers model (`model.json` + one weights file), so a
 * browser can `tf.loadLayersModel(".../model.json")` it. edgegan's metadata rides in
 * `model.json`'s `userDefinedMetadata.edgegan`: what was trained, how, and a golden sample that
 * a loader regenerates to prove the files reproduce the trained model.
 *
 * ```ts
 * const { model, metadata } = await loadGenerator("models/mnist");
 * const images = generate(model, inputSpec(metadata), 42, 4); // 4 x 784 values in [-1, 1]
 * ```
 */
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import { LATENT_SAMPLER } from "../random/seeded.ts";
import { tidyValues } from "./backend.ts";
import { forward, mlpOfModel } from "../nn/mlp.ts";
import { modelWeights, readLayersModel, writeLayersModel } from "./layers_files.ts";
import { ModelLoadError, updateMetadata } from "../format/model_files.ts";
import {
  checkMetadata,
  FORMAT_NAME,
  FORMAT_VERSION,
  generatorId,
  generatorInputs,
  type GeneratorMetadata,
  generatorMismatch,
  GOLDEN_N,
  GOLDEN_SEED,
  GOLDEN_TOLERANCE,
  type InputSpec,
  inputSpec,
  type MetadataInput,
  round5,
} from "../format/generator_metadata.ts";

export interface LoadedGenerator {
  model: tfl.LayersModel;
  metadata: GeneratorMetadata;
  /** Short content id, "<name>@<first 12 hex of weightsSha256>". */
  id: string;
}

/**
 * Runs the generator on `latentBatch(seed, n)` with dropout off (inference) and returns the
 * samples row-major.
 */
export function generate(
  model: tfl.LayersModel,
  spec: InputSpec,
  seed: number,
  n: number,
  label?: number,
): Float32Array {
  return predictLatents(model, generatorInputs(spec, seed, n, label), n, spec.size + spec.classes);
}

/**
 * Runs the generator (dropout off) on `n` input rows of `width` values, row-major. A Dense MLP
 * (every generator edgegan trains) runs through the training side's own forward pass, so
 * training, grids, evaluation and golden values share one; any other model through tfjs.
 */
export function predictLatents(
  model: tfl.LayersModel,
  inputs: Float32Array,
  n: number,
  width: number,
): Float32Array {
  const net = mlpOfModel(model);
  return tidyValues(() => {
    const x = tf.tensor2d(inputs, [n, width]);
    return net ? forward(net, x, 0).output : model.predict(x) as tf.Tensor;
  });
}

/**
 * Writes the generator and its metadata (computed here: latent, hash, golden sample) into `dir`
 * atomically; see `writeLayersModel`.
 */
export async function saveGenerator(
  dir: string,
  model: tfl.LayersModel,
  input: MetadataInput,
): Promise<GeneratorMetadata> {
  const saved = await modelWeights(model);
  const { latentSize, ...rest } = input;
  const latent = {
    size: latentSize,
    distribution: "normal(0,1)" as const,
    sampler: LATENT_SAMPLER,
  };
  const metadata: GeneratorMetadata = {
    format: FORMAT_NAME,
    formatVersion: FORMAT_VERSION,
    ...rest,
    latent,
    tfjsVersion: tf.version_core,
    createdAt: new Date().toISOString(),
    weightsSha256: saved.weightsSha256,
    golden: {
      seed: GOLDEN_SEED,
      n: GOLDEN_N,
      tolerance: GOLDEN_TOLERANCE,
      values: Array.from(
        generate(
          model,
          inputSpec({ latent, labels: rest.labels, clusters: rest.clusters }),
          GOLDEN_SEED,
          GOLDEN_N,
        ),
        round5,
      ),
    },
  };
  await writeLayersModel(dir, saved, metadata);
  return metadata;
}

/** Rewrites only a saved generator's metadata (e.g. to add evaluation metrics). */
export function updateGeneratorMetadata(
  dir: string,
  change: (metadata: GeneratorMetadata) => GeneratorMetadata,
): Promise<void> {
  return updateMetadata(dir, checkMetadata, change);
}

/**
 * Loads and verifies a saved generator: metadata shape, format version, weights hash, the
 * model's input/output shapes against the metadata, and the golden sample. Every failure is a
 * `ModelLoadError` naming the file.
 */
export async function loadGenerator(dir: string): Promise<LoadedGenerator> {
  const jsonPath = `${dir}/model.json`;
  const { model, json } = await readLayersModel(dir, checkMetadata);
  const metadata = json.userDefinedMetadata.edgegan as unknown as GeneratorMetadata;
  const width = model.inputs[0].shape[1]!;
  const mismatch = generatorMismatch(
    metadata,
    model.inputs[0].shape,
    model.outputs[0].shape,
    (inputs, n) => predictLatents(model, inputs, n, width),
  );
  if (mismatch) {
    model.dispose();
    throw new ModelLoadError(jsonPath, mismatch);
  }
  return { model, metadata, id: generatorId(metadata) };
}
