/**
 * Training checkpoints: both nets, both optimizers, the step and the RNG description in ONE
 * file (`<out>/checkpoint/checkpoint.bin`), written atomically, so a crash can never pair a new
 * generator with an old discriminator.
 *
 * Layout: "EGCKPT01", uint32 LE header length, header JSON, then the float32 data.
 */
import * as tf from "@tensorflow/tfjs-core";
import { sha256Hex } from "../format/model_files.ts";
import { writeFileAtomic } from "../format/atomic.ts";
import type { TrainConfig } from "./config.ts";

const MAGIC = "EGCKPT01";
export const CHECKPOINT_FILE = "checkpoint.bin";

export interface Checkpoint {
  step: number;
  /** Training wall time so far, summed over sessions. */
  wallTimeS: number;
  config: TrainConfig;
  /** Every random draw is a function of (seed, step), so these two are the whole RNG state. */
  rng: { algorithm: string; seed: number; step: number };
  tensors: Record<string, { shape: number[]; values: Float32Array }>;
}

/** A checkpoint that cannot be used; the message names the file and the problem. */
export class CheckpointError extends Error {
  override name = "CheckpointError";
}

export function checkpointPath(out: string): string {
  return `${out}/checkpoint/${CHECKPOINT_FILE}`;
}

export async function saveCheckpoint(
  out: string,
  state: Omit<Checkpoint, "tensors">,
  tensors: Record<string, tf.Tensor | { shape: number[]; values: Float32Array }>,
): Promise<void> {
  const entries = Object.entries(tensors);
  const arrays = entries.map(([, t]) =>
    t instanceof tf.Tensor ? t.dataSync() as Float32Array : t.values
  );
  const total = arrays.reduce((s, a) => s + a.length, 0);
  const data = new Float32Array(total);
  const specs: { name: string; shape: number[]; offset: number; length: number }[] = [];
  let offset = 0;
  entries.forEach(([name, t], i) => {
    data.set(arrays[i], offset);
    specs.push({ name, shape: t.shape, offset, length: arrays[i].length });
    offset += arrays[i].length;
  });
  const dataBytes = new Uint8Array(data.buffer);
  const header = new TextEncoder().encode(JSON.stringify({
    ...state,
    tensors: specs,
    dataSha256: await sha256Hex(dataBytes),
  }));
  // Pad the header so the float data starts 4-byte aligned.
  const headerLength = Math.ceil((header.length + 12) / 4) * 4 - 12;
  const bytes = new Uint8Array(12 + headerLength + dataBytes.length);
  bytes.set(new TextEncoder().encode(MAGIC), 0);
  new DataView(bytes.buffer).setUint32(8, headerLength, true);
  bytes.fill(0x20, 12, 12 + headerLength);
  bytes.set(header, 12);
  bytes.set(dataBytes, 12 + headerLength);
  await Deno.mkdir(`${out}/checkpoint`, { recursive: true });
  await writeFileAtomic(checkpointPath(out), bytes);
}

export async function loadCheckpoint(out: string): Promise<Checkpoint> {
  const path = checkpointPath(out);
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) {
      throw new CheckpointError(`${path}: no checkpoint to resume from`);
    }
    throw new CheckpointError(`${path}: cannot read (${(err as Error).message})`);
  }
  const bad = (problem: string) => new CheckpointError(`${path}: ${problem}`);
  if (bytes.length < 12 || new TextDecoder().decode(bytes.subarray(0, 8)) !== MAGIC) {
    throw bad("not an edgegan checkpoint (bad magic)");
  }
  const headerLength = new DataView(bytes.buffer, bytes.byteOffset).getUint32(8, true);
  if (12 + headerLength > bytes.length) throw bad("truncated header");
  let header: Omit<Checkpoint, "tensors"> & {
    tensors: { name: string; shape: number[]; offset: number; length: number }[];
    dataSha256: string;
  };
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + headerLength)));
  } catch {
    throw bad("header is not valid JSON");
  }
  const dataBytes = bytes.slice(12 + headerLength);
  if (dataBytes.length % 4 !== 0 || (await sha256Hex(dataBytes)) !== header.dataSha256) {
    throw bad("data does not match its checksum (truncated or altered)");
  }
  const data = new Float32Array(dataBytes.buffer);
  const tensors: Checkpoint["tensors"] = {};
  for (const spec of header.tensors) {
    tensors[spec.name] = {
      shape: spec.shape,
      values: data.subarray(spec.offset, spec.offset + spec.length),
    };
  }
  const { dataSha256: _, tensors: __, ...rest } = header;
  return { ...rest, tensors };
}
