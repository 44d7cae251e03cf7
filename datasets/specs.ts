/**
 * What the trainer, the evaluation and the server need to know of each dataset, in one place
 * instead of `=== "mnist"` tests: a sample's size and shape, G's output range and activation,
 * and its kind (images or 2-D points).
 *
 * ```ts
 * DATASET_SPECS.mnist.dim; // 784
 * DATASET_SPECS.grid25.kind; // "points"
 * ```
 */

/** Values in one MNIST image (28 x 28). */
export const MNIST_PIXELS = 28 * 28;

export const DATASETS = ["mnist", "ring8", "grid25"] as const;
export type DatasetName = typeof DATASETS[number];

/** One dataset's description. */
export interface DatasetSpec {
  /** Values in one sample. */
  dim: number;
  /** One sample's shape, as the saved metadata records it. */
  outputShape: number[];
  /** Bounds of G's output (tanh for pixels in [-1, 1]), or null when unbounded. */
  outputRange: [number, number] | null;
  outActivation: "tanh" | "linear";
  /** Images (MNIST: labels, digit grids) or points of a 2-D mixture (scatter plots). */
  kind: "images" | "points";
}

const POINTS: DatasetSpec = {
  dim: 2,
  outputShape: [2],
  outputRange: null,
  outActivation: "linear",
  kind: "points",
};

export const DATASET_SPECS: Record<DatasetName, DatasetSpec> = {
  mnist: {
    dim: MNIST_PIXELS,
    outputShape: [28, 28],
    outputRange: [-1, 1],
    outActivation: "tanh",
    kind: "images",
  },
  ring8: POINTS,
  grid25: POINTS,
};
