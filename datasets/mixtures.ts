/**
 * The 2-D Gaussian mixtures of the PacGAN paper (Lin et al., 2018), the standard test of mode
 * collapse: their modes (read by training, evaluation and the server's scatter plot) and a
 * seeded sampler. Free of tfjs and `node:`, so the server may import it.
 *
 * ```ts
 * const points = sampleMixture(GRID25, 2500, new Rng(1)); // [x0, y0, x1, y1, ...]
 * ```
 */
import { Rng } from "../random/seeded.ts";

/** A mixture of isotropic 2-D Gaussians with equal weights. */
export interface Mixture {
  name: string;
  modes: [number, number][];
  std: number;
}

/** PacGAN's ring: 8 Gaussians evenly spaced on a circle of radius 1, std 0.01. */
export const RING8: Mixture = {
  name: "ring8",
  modes: Array.from({ length: 8 }, (_, i) => {
    const angle = (2 * Math.PI * i) / 8;
    return [Math.cos(angle), Math.sin(angle)] as [number, number];
  }),
  std: 0.01,
};

/** PacGAN's grid: 25 Gaussians at {-4,-2,0,2,4}^2, std 0.05. */
export const GRID25: Mixture = {
  name: "grid25",
  modes: [-4, -2, 0, 2, 4].flatMap((x) => [-4, -2, 0, 2, 4].map((y) => [x, y] as [number, number])),
  std: 0.05,
};

export const MIXTURES: Record<string, Mixture> = { ring8: RING8, grid25: GRID25 };

/** `n` points from the mixture, row-major [x0, y0, x1, y1, ...]. */
export function sampleMixture(
  mixture: Mixture,
  n: number,
  rng: Rng,
  out: Float32Array = new Float32Array(2 * n),
): Float32Array {
  for (let i = 0; i < n; i++) {
    const [mx, my] = mixture.modes[rng.nextInt(mixture.modes.length)];
    out[2 * i] = mx + mixture.std * rng.nextNormal();
    out[2 * i + 1] = my + mixture.std * rng.nextNormal();
  }
  return out;
}
