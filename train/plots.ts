/**
 * Pictures written during training: the 8 x 8 digit grid for MNIST, and a scatter plot of
 * generated points over the true modes for the 2-D mixtures.
 */
import { encodePng, imageGrid, type Raster, toPixels } from "../image/png.ts";
import type { Mixture } from "./data.ts";

/** An 8 x 8 grid of 28 x 28 samples at 2x, tiles separated by grey lines. */
export function digitGridPng(samples: Float32Array, n: number): Uint8Array {
  return encodePng(
    imageGrid(toPixels(samples), { n, width: 28, height: 28, scale: 2, gap: 2, gapValue: 96 }),
  );
}

/** Generated points (blue) over the mixture's modes (red crosses) on a white square. */
export function scatterPng(points: Float32Array, mixture: Mixture, size = 480): Uint8Array {
  const extent = Math.max(...mixture.modes.flat().map(Math.abs)) * 1.5;
  const image: Raster = {
    width: size,
    height: size,
    channels: 3,
    data: new Uint8Array(size * size * 3).fill(255),
  };
  const toPx = (x: number, y: number) => [
    Math.round(((x + extent) / (2 * extent)) * (size - 1)),
    Math.round(((extent - y) / (2 * extent)) * (size - 1)),
  ];
  const put = (px: number, py: number, rgb: [number, number, number]) => {
    if (px < 0 || py < 0 || px >= size || py >= size) return;
    image.data.set(rgb, (py * size + px) * 3);
  };
  // Axes through the origin, light grey.
  const [ox, oy] = toPx(0, 0);
  for (let i = 0; i < size; i++) {
    put(i, oy, [220, 220, 220]);
    put(ox, i, [220, 220, 220]);
  }
  for (let i = 0; i < points.length; i += 2) {
    const [px, py] = toPx(points[i], points[i + 1]);
    for (let dx = 0; dx < 2; dx++) {
      for (let dy = 0; dy < 2; dy++) put(px + dx, py + dy, [30, 80, 200]);
    }
  }
  for (const [mx, my] of mixture.modes) {
    const [px, py] = toPx(mx, my);
    for (let d = -5; d <= 5; d++) {
      put(px + d, py, [220, 30, 30]);
      put(px, py + d, [220, 30, 30]);
    }
  }
  return encodePng(image);
}
