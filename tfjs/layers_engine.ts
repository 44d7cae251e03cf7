/**
 * The fallback engine: a tfjs Layers generator the Dense engine cannot run (convolutions, batch
 * norm, reshapes, embeddings, ...) is run by tfjs-layers on the wasm backend. The server imports
 * this module only when it meets such a model, so serving MLPs never loads tfjs.
 *
 * ```ts
 * const runner = await tfjsRunner(jsonPath, json, metadata, weightBytes);
 * const out = runner.predict(inputs, n); // n x prod(outputShape), dropout off
 * ```
 */
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import { initBackend } from "./backend.ts";
import type { GeneratorRunner } from "../engine/runner.ts";
import {
  generatorId,
  type GeneratorMetadata,
  generatorMismatch,
  inputSpec,
} from "../format/generator_metadata.ts";
import { type ModelJson, ModelLoadError } from "../format/model_files.ts";
import { buildLayersModel } from "./layers_files.ts";

/** The engine's name in `/model`, `/models` and ETags. */
export const TFJS_ENGINE = `tfjs-wasm-${tf.version_core}`;

export class TfjsRunner implements GeneratorRunner {
  readonly id: string;
  readonly engine = TFJS_ENGINE;
  readonly #width: number;
  constructor(readonly metadata: GeneratorMetadata, readonly model: tfl.LayersModel) {
    this.id = generatorId(metadata);
    const spec = inputSpec(metadata);
    this.#width = spec.size + spec.classes;
  }

  /** `model.predict` is inference: Dropout is the identity, BatchNorm uses its moving stats. */
  predict(inputs: Float32Array, n: number): Float32Array {
    const out = tf.tidy(() => {
      const y = this.model.predict(tf.tensor2d(inputs, [n, this.#width])) as tf.Tensor;
      return tf.reshape(y, [-1]);
    });
    const values = out.dataSync() as Float32Array;
    out.dispose();
    return values;
  }

  get memoryBytes(): number {
    return this.model.countParams() * 4;
  }
}

/** Builds the model with tfjs-layers and checks its shapes and golden sample. */
export async function tfjsRunner(
  jsonPath: string,
  json: ModelJson,
  metadata: GeneratorMetadata,
  weights: Uint8Array,
): Promise<TfjsRunner> {
  await initBackend("wasm");
  const model = await buildLayersModel(jsonPath, json, weights);
  const fail = (problem: string) => {
    model.dispose();
    return new ModelLoadError(jsonPath, problem);
  };
  if (model.inputs.length !== 1 || model.outputs.length !== 1) {
    throw fail(
      `the model has ${model.inputs.length} inputs and ${model.outputs.length} outputs; one of each is served`,
    );
  }
  const runner = new TfjsRunner(metadata, model);
  const mismatch = generatorMismatch(
    metadata,
    model.inputs[0].shape,
    model.outputs[0].shape,
    (inputs, n) => runner.predict(inputs, n),
  );
  if (mismatch) throw fail(mismatch);
  return runner;
}
