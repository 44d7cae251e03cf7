/**
 * The two networks: Dense layers with LeakyReLU and Dropout (the wasm backend cannot train
 * convolutions: it has no conv-filter gradient).
 *
 * ```ts
 * const g = buildGenerator({ latent: 100, hidden: [256, 256], dropout: 0.5, outDim: 784, outActivation: "tanh", seed: 1 });
 * ```
 */
import * as tfl from "@tensorflow/tfjs-layers";
import { tfSeed } from "../random/seeded.ts";

export interface NetOptions {
  /** Input width: the latent size for G, the sample size for D. */
  inDim: number;
  hidden: number[];
  dropout: number;
  outDim: number;
  outActivation: "tanh" | "linear";
  /** Seeds the weight initialisers. */
  seed: number;
  /** The model's name; its first letter prefixes the layer names (g_dense1, d_lrelu2, ...). */
  name: string;
  /** LeakyReLU slope for negative inputs (default 0.2; 0 makes it a ReLU). */
  slope?: number;
}

export const LEAKY_SLOPE = 0.2;

/** A Sequential MLP: [Dense -> LeakyReLU -> Dropout] per hidden size, then Dense out. */
export function buildMlp(options: NetOptions): tfl.Sequential {
  const prefix = options.name[0];
  const model = tfl.sequential({ name: options.name });
  let layer = 0;
  const dense = (units: number, activation: "tanh" | "linear", inputDim?: number) => {
    layer += 1;
    return tfl.layers.dense({
      units,
      activation,
      inputShape: inputDim === undefined ? undefined : [inputDim],
      kernelInitializer: tfl.initializers.glorotUniform({
        seed: tfSeed(options.seed, prefix.charCodeAt(0), layer),
      }),
      biasInitializer: "zeros",
      name: `${prefix}_dense${layer}`,
    });
  };
  options.hidden.forEach((units, i) => {
    model.add(dense(units, "linear", i === 0 ? options.inDim : undefined));
    model.add(
      tfl.layers.leakyReLU({
        alpha: options.slope ?? LEAKY_SLOPE,
        name: `${prefix}_lrelu${i + 1}`,
      }),
    );
    // Rate 0 means no layer at all, so "dropout off" nets are plain MLPs.
    if (options.dropout > 0) {
      model.add(tfl.layers.dropout({ rate: options.dropout, name: `${prefix}_dropout${i + 1}` }));
    }
  });
  model.add(
    dense(
      options.outDim,
      options.outActivation,
      options.hidden.length === 0 ? options.inDim : undefined,
    ),
  );
  return model;
}

export function buildGenerator(options: Omit<NetOptions, "name">): tfl.Sequential {
  return buildMlp({ ...options, name: "generator" });
}

export function buildDiscriminator(options: Omit<NetOptions, "name">): tfl.Sequential {
  return buildMlp({ ...options, name: "discriminator" });
}
