import assert from "node:assert/strict";
import { encodePng, imageGrid, toPixels } from "../image/png.ts";
import { decodePng } from "./png_decode.ts";

Deno.test("toPixels maps [-1, 1] to 0..255 and clamps", () => {
  assert.deepEqual(
    Array.from(toPixels(new Float32Array([-1, 0, 1, -3, 3]))),
    [0, 128, 255, 0, 255],
  );
});

Deno.test("PNG round-trips grey, RGB and RGBA images", () => {
  for (const channels of [1, 3, 4] as const) {
    const width = 37, height = 11;
    const data = new Uint8Array(width * height * channels).map((_, i) => (i * 7) % 256);
    const decoded = decodePng(encodePng({ width, height, channels, data }));
    assert.deepEqual(decoded, { width, height, channels, data });
  }
});

Deno.test("decodePng rejects a corrupted chunk", () => {
  const png = encodePng({ width: 2, height: 2, channels: 1, data: new Uint8Array(4) });
  png[20] ^= 0xff;
  assert.throws(() => decodePng(png), /bad CRC/);
});

Deno.test("imageGrid places tile t at row t / cols, column t % cols, scaled", () => {
  // Three 2x1 tiles with distinct values, 2 columns, scale 2, gap 1.
  const pixels = new Uint8Array([10, 11, 20, 21, 30, 31]);
  const grid = imageGrid(pixels, {
    n: 3,
    width: 2,
    height: 1,
    cols: 2,
    scale: 2,
    gap: 1,
    gapValue: 99,
  });
  assert.equal(grid.width, 2 * 4 + 1);
  assert.equal(grid.height, 2 * 2 + 1);
  const at = (x: number, y: number) => grid.data[y * grid.width + x];
  assert.equal(at(0, 0), 10);
  assert.equal(at(3, 1), 11);
  assert.equal(at(4, 0), 99);
  assert.equal(at(5, 0), 20);
  assert.equal(at(8, 1), 21);
  assert.equal(at(0, 3), 30);
  assert.equal(at(5, 3), 99, "empty cells take the gap colour");
});
