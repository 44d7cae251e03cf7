/**
 * The server's generator loader: the same files and checks as `loadGenerator` (metadata,
 * weights hash, input/output shapes, golden sample), run by `DenseNet` instead of tfjs, so a
 * server process never imports tfjs. Failures are `ModelLoadError`s naming the file.
 *
 * ```ts
 * const gen = await loadRunner("models/mnist");
 * const out = gen.predict(latentBatch(42, 4, gen.metadata.latent.size), 4); // 4 x 784
 * ```
 */
import { DenseNet, UnsupportedModelError } from "./dense_net.ts";
import {
  checkMetadata,
  generatorId,
  type GeneratorMetadata,
  generatorMismatch,
} from "../format/generator_metadata.ts";
import { ModelLoadError, readModelJson, readWeightsVerifying } from "../format/model_files.ts";

/** What the server needs from a generator: its metadata and a dropout-off forward pass. */
export interface GeneratorRunner {
  metadata: GeneratorMetadata;
  /** "<name>@<first 12 hex digits of the weights' sha256>". */
  id: string;
  /** The outputs for `n` input rows (latent, then the one-hot label if conditional). */
  predict(inputs: Float32Array, n: number): Float32Array;
  /** Bytes of memory the runner holds for weights and buffers. */
  readonly memoryBytes: number;
  /** Names the engine and its version; outputs are bit-identical for equal engines. */
  readonly engine: string;
}

export class DenseRunner implements GeneratorRunner {
  readonly id: string;
  readonly engine = DenseNet.ENGINE;
  constructor(readonly metadata: GeneratorMetadata, readonly net: DenseNet) {
    this.id = generatorId(metadata);
  }
  predict(inputs: Float32Array, n: number): Float32Array {
    return this.net.predict(inputs, n);
  }
  get memoryBytes(): number {
    return this.net.memoryBytes;
  }
}

/**
 * Loads a generator for serving: on the Dense engine when it is a Dense MLP, else (convolutions,
 * batch norm, ...) on tfjs, imported only then.
 */
export async function loadRunner(dir: string): Promise<GeneratorRunner> {
  const jsonPath = `${dir}/model.json`;
  const json = await readModelJson(jsonPath, checkMetadata);
  const metadata = json.userDefinedMetadata.edgegan as unknown as GeneratorMetadata;
  // The weights' hash is checked while the engine is built and run on the golden sample; a
  // model is returned only after both passed, and a changed file is reported as such first.
  const { bytes, verified } = await readWeightsVerifying(dir, json);
  verified.catch(() => {}); // awaited below on every path
  let net: DenseNet;
  try {
    net = DenseNet.fromLayers(
      json.modelTopology,
      json.weightsManifest.flatMap((group) => group.weights),
      bytes,
    );
  } catch (err) {
    await verified;
    if (!(err instanceof UnsupportedModelError)) throw err;
    const { tfjsRunner } = await import("../tfjs/layers_engine.ts");
    return tfjsRunner(jsonPath, json, metadata, bytes);
  }
  const mismatch = generatorMismatch(
    metadata,
    [null, net.inDim],
    [null, net.outDim],
    (inputs, n) => net.predict(inputs, n),
  );
  await verified;
  if (mismatch) throw new ModelLoadError(jsonPath, mismatch);
  return new DenseRunner(metadata, net);
}
