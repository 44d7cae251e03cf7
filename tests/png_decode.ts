/**
 * A PNG decoder for the tests (8-bit, non-interlaced grey/RGB/RGBA, all five row filters, CRCs
 * checked): they read back what the server and the trainer encode. Not part of the product.
 */
import { inflateSync } from "node:zlib";
import { crc32, PNG_SIGNATURE, type Raster } from "../image/png.ts";

const CHANNELS: Record<number, 1 | 3 | 4> = { 0: 1, 2: 3, 6: 4 };

/** Decodes an 8-bit, non-interlaced grey/RGB/RGBA PNG (all five row filters), checking CRCs. */
export function decodePng(bytes: Uint8Array): Raster {
  for (let i = 0; i < PNG_SIGNATURE.length; i++) {
    if (bytes[i] !== PNG_SIGNATURE[i]) throw new Error("not a PNG: bad signature");
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let offset = 8;
  let width = 0, height = 0, channels: 1 | 3 | 4 = 1;
  const idat: Uint8Array[] = [];
  while (offset + 12 <= bytes.length) {
    const length = view.getUint32(offset);
    const type = String.fromCharCode(...bytes.subarray(offset + 4, offset + 8));
    const body = bytes.subarray(offset + 8, offset + 8 + length);
    const crc = view.getUint32(offset + 8 + length);
    if (((crc32(bytes.subarray(offset + 4, offset + 8 + length)) ^ 0xffffffff) >>> 0) !== crc) {
      throw new Error(`PNG chunk ${type} has a bad CRC`);
    }
    if (type === "IHDR") {
      const hv = new DataView(body.buffer, body.byteOffset, body.byteLength);
      width = hv.getUint32(0);
      height = hv.getUint32(4);
      if (body[8] !== 8 || !(body[9] in CHANNELS) || body[12] !== 0) {
        throw new Error("unsupported PNG: only 8-bit, non-interlaced grey/RGB/RGBA");
      }
      channels = CHANNELS[body[9]];
    } else if (type === "IDAT") {
      idat.push(body);
    } else if (type === "IEND") {
      break;
    }
    offset += 12 + length;
  }
  const compressed = new Uint8Array(idat.reduce((s, b) => s + b.length, 0));
  let at = 0;
  for (const b of idat) {
    compressed.set(b, at);
    at += b.length;
  }
  const raw = new Uint8Array(inflateSync(compressed));
  const stride = width * channels;
  if (raw.length !== (stride + 1) * height) throw new Error("PNG image data has the wrong size");
  const data = new Uint8Array(stride * height);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const src = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    const row = data.subarray(y * stride, (y + 1) * stride);
    const prev = y > 0 ? data.subarray((y - 1) * stride, y * stride) : new Uint8Array(stride);
    for (let x = 0; x < stride; x++) {
      const a = x >= channels ? row[x - channels] : 0;
      const b = prev[x];
      const c = x >= channels ? prev[x - channels] : 0;
      let predictor = 0;
      if (filter === 1) predictor = a;
      else if (filter === 2) predictor = b;
      else if (filter === 3) predictor = (a + b) >> 1;
      else if (filter === 4) {
        const p = a + b - c;
        const pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
        predictor = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      } else if (filter !== 0) throw new Error(`PNG row ${y} has unknown filter ${filter}`);
      row[x] = (src[x] + predictor) & 0xff;
    }
  }
  return { width, height, channels, data };
}
