/**
 * Reading the files of a saved tfjs Layers model (`model.json` + weights) without tfjs: the
 * checks every loader shares (format, metadata present, weights hash). The server loads
 * generators through this module alone, so it starts without importing tfjs.
 *
 * ```ts
 * const json = await readModelJson("models/mnist/model.json", checkMyMetadata);
 * const bytes = await readWeights("models/mnist", json); // sha256-checked
 * ```
 */
import { writeFileAtomic } from "./atomic.ts";

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

/** One entry of a weights manifest, as tfjs writes it. */
export interface WeightSpec {
  name: string;
  shape: number[];
  dtype: string;
}

export interface ModelJson {
  format?: string;
  modelTopology: object;
  weightsManifest: { paths: string[]; weights: WeightSpec[] }[];
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
 * The weights of a model folder, concatenated in manifest order, after checking their sha256
 * against the metadata. Failures are `ModelLoadError`s naming the file.
 */
export async function readWeights(dir: string, json: ModelJson): Promise<Uint8Array> {
  const { bytes, verified } = await readWeightsVerifying(dir, json);
  await verified;
  return bytes;
}

/**
 * The weights as `readWeights` reads them, returned before their sha256 is known: `verified`
 * settles once it matched, or rejects with the `ModelLoadError`. The hash runs off the main
 * thread, so a caller can build from the bytes meanwhile, and must await `verified` before
 * using what it built (the server's start: the ~2 ms hash of a 3 MB model overlaps the engine's
 * set-up).
 */
export async function readWeightsVerifying(
  dir: string,
  json: ModelJson,
): Promise<{ bytes: Uint8Array; verified: Promise<void> }> {
  const jsonPath = `${dir}/model.json`;
  const expected = json.userDefinedMetadata.edgegan.weightsSha256 as string;
  const paths = json.weightsManifest.flatMap((group) => group.paths);
  const files: Deno.FsFile[] = [];
  try {
    const sizes: number[] = [];
    for (const name of paths) {
      if (typeof name !== "string" || !/^[\w.-]+$/.test(name) || name.startsWith(".")) {
        throw new ModelLoadError(
          jsonPath,
          `weights path ${JSON.stringify(name)} must be a plain file name`,
        );
      }
      const file = await fileOp(`${dir}/${name}`, () => Deno.open(`${dir}/${name}`));
      files.push(file);
      sizes.push((await fileOp(`${dir}/${name}`, () => file.stat())).size);
    }
    // One buffer, each file read straight into its place: no per-file copies to concatenate.
    const bytes = new Uint8Array(sizes.reduce((a, b) => a + b, 0));
    let offset = 0;
    for (const [i, file] of files.entries()) {
      const end = offset + sizes[i];
      while (offset < end) {
        const got = await fileOp(
          `${dir}/${paths[i]}`,
          () => file.read(bytes.subarray(offset, end)),
        );
        if (got === null) throw new ModelLoadError(`${dir}/${paths[i]}`, "shorter than its size");
        offset += got;
      }
    }
    const verified = sha256Hex(bytes).then((actual) => {
      if (actual !== expected) {
        throw new ModelLoadError(
          `${dir}/${paths.join(",")}`,
          `sha256 ${actual.slice(0, 12)}… does not match the metadata's ${
            expected.slice(0, 12)
          }… (truncated or altered)`,
        );
      }
    });
    return { bytes, verified };
  } finally {
    for (const file of files) file.close();
  }
}

/** Runs a file operation; a failure becomes a ModelLoadError naming the file. */
async function fileOp<T>(path: string, op: () => Promise<T>): Promise<T> {
  try {
    return await op();
  } catch (err) {
    const problem = err instanceof Deno.errors.NotFound ? "file not found" : (err as Error).message;
    throw new ModelLoadError(path, problem);
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
