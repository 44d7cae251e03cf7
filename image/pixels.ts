/**
 * Pixels without PNG: generator output in [-1, 1] to 8-bit pixels, and sample grids. Split from
 * png.ts so the server loads the PNG codec (and node:zlib, ~35-70 ms to import) only after it
 * is listening.
 *
 * ```ts
 * const grid = imageGrid(toPixels(samples), { n: 64, width: 28, height: 28, scale: 2 });
 * ```
 */

/** A raster image, row-major, `channels` bytes per pixel. */
export interface Raster {
  width: number;
  height: number;
  channels: 1 | 3 | 4;
  data: Uint8Array;
}

/** Maps generator output in `range` (default [-1, 1], tanh) to 0..255 (rounded, clamped). */
export function toPixels(values: Float32Array, range: [number, number] = [-1, 1]): Uint8Array {
  const out = new Uint8Array(values.length);
  const [lo, hi] = range;
  const scale = 255 / (hi - lo);
  for (let i = 0; i < values.length; i++) {
    const v = Math.round((values[i] - lo) * scale);
    out[i] = v < 0 ? 0 : v > 255 ? 255 : v;
  }
  return out;
}

export interface GridOptions {
  /** Number of tiles in `pixels`. */
  n: number;
  width: number;
  height: number;
  /** Integer upscaling of each pixel (nearest neighbour). */
  scale?: number;
  /** Columns; defaults to ceil(sqrt(n)) so the grid is as square as possible. */
  cols?: number;
  /** Pixels between tiles, drawn in `gapValue`. */
  gap?: number;
  gapValue?: number;
}

/** Lays out `n` grey tiles row by row into one grey raster. */
export function imageGrid(pixels: Uint8Array, options: GridOptions): Raster {
  const { n, width, height } = options;
  const scale = options.scale ?? 1;
  const cols = options.cols ?? Math.max(1, Math.ceil(Math.sqrt(n)));
  const rows = Math.max(1, Math.ceil(n / cols));
  const gap = options.gap ?? 0;
  const tileW = width * scale;
  const tileH = height * scale;
  const outW = cols * tileW + (cols - 1) * gap;
  const outH = rows * tileH + (rows - 1) * gap;
  const data = new Uint8Array(outW * outH).fill(options.gapValue ?? 0);
  for (let t = 0; t < n; t++) {
    const x0 = (t % cols) * (tileW + gap);
    const y0 = Math.floor(t / cols) * (tileH + gap);
    const base = t * width * height;
    for (let y = 0; y < tileH; y++) {
      const srcRow = base + Math.floor(y / scale) * width;
      const dstRow = (y0 + y) * outW + x0;
      for (let x = 0; x < tileW; x++) {
        data[dstRow + x] = pixels[srcRow + Math.floor(x / scale)];
      }
    }
  }
  return { width: outW, height: outH, channels: 1, data };
}
