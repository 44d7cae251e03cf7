/**
 * A scatter plot of 2-D points over a mixture's modes, as a raster for the PNG encoder: the
 * training report's picture of a 2-D run and the server's `format=png` for a 2-D model.
 *
 * ```ts
 * const png = encodePng(scatterRaster(points, GRID25.modes, 480));
 * ```
 */
import type { Raster } from "./pixels.ts";

/** The side of a served scatter plot at scale 1, in pixels. */
export const SCATTER_SIZE = 240;

const AXES: [number, number, number] = [220, 220, 220];
const POINT: [number, number, number] = [30, 80, 200];
const MODE: [number, number, number] = [220, 30, 30];

/**
 * Modes (red crosses) under the points (blue, [x0, y0, x1, y1, ...]) on a white `size` x `size`
 * square spanning 1.5 times the farthest mode (or point, when there are no modes) each way.
 */
export function scatterRaster(
  points: Float32Array,
  modes: [number, number][],
  size: number,
): Raster {
  const far = modes.length ? modes.flat() : Array.from(points);
  const extent = Math.max(1e-6, ...far.map((v) => Number.isFinite(v) ? Math.abs(v) : 0)) * 1.5;
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
    if (!(px >= 0 && py >= 0 && px < size && py < size)) return;
    image.data.set(rgb, (py * size + px) * 3);
  };
  // Axes through the origin.
  const [ox, oy] = toPx(0, 0);
  for (let i = 0; i < size; i++) {
    put(i, oy, AXES);
    put(ox, i, AXES);
  }
  // The modes first, so the points on them stay visible.
  for (const [mx, my] of modes) {
    const [px, py] = toPx(mx, my);
    for (let d = -5; d <= 5; d++) {
      put(px + d, py, MODE);
      put(px, py + d, MODE);
    }
  }
  for (let i = 0; i + 1 < points.length; i += 2) {
    const [px, py] = toPx(points[i], points[i + 1]);
    for (let dx = 0; dx < 2; dx++) for (let dy = 0; dy < 2; dy++) put(px + dx, py + dy, POINT);
  }
  return image;
}
