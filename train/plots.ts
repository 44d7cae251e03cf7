/**
 * Pictures written during training: the 8 x 8 digit grid for MNIST, and a scatter plot of
 * generated points over the true modes for the 2-D mixtures.
 */
import { encodePng, imageGrid, toPixels } from "../image/png.ts";
import { scatterRaster } from "../image/scatter.ts";
import type { Mixture } from "../datasets/mixtures.ts";

/** An 8 x 8 grid of 28 x 28 samples at 2x, tiles separated by grey lines. */
export function digitGridPng(samples: Float32Array, n: number): Uint8Array {
  return encodePng(
    imageGrid(toPixels(samples), { n, width: 28, height: 28, scale: 2, gap: 2, gapValue: 96 }),
  );
}

/** Generated points over the mixture's modes, 480 x 480. */
export function scatterPng(points: Float32Array, mixture: Mixture, size = 480): Uint8Array {
  return encodePng(scatterRaster(points, mixture.modes, size));
}
