/**
 * Just enough of a WebAssembly assembler to write small SIMD kernels in TypeScript: integer
 * encodings, sections, and the opcodes edgegan's kernels use. Kernels are built at start-up as
 * byte arrays and compiled with `new WebAssembly.Module` (a few hundred bytes: well under a
 * millisecond), so there is no build step and nothing binary in the repository.
 *
 * ```ts
 * const bytes = moduleBytes({ params: [I32, I32], locals: [], body: [...], exportName: "f" });
 * ```
 */

/** Unsigned LEB128. */
export function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

/** Signed LEB128 (for i32.const). */
export function sleb(n: number): number[] {
  const out: number[] = [];
  n |= 0;
  while (true) {
    const byte = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

const str = (s: string) => [...uleb(s.length), ...new TextEncoder().encode(s)];
const section = (id: number, body: number[]) => [id, ...uleb(body.length), ...body];
const vec = (items: number[][]) => [...uleb(items.length), ...items.flat()];

export const I32 = 0x7f, F32 = 0x7d, V128 = 0x7b;

/** Instructions. Those taking an operand are functions. */
export const op = {
  get: (i: number) => [0x20, ...uleb(i)],
  set: (i: number) => [0x21, ...uleb(i)],
  tee: (i: number) => [0x22, ...uleb(i)],
  i32: (n: number) => [0x41, ...sleb(n)],
  i32Add: [0x6a],
  i32Sub: [0x6b],
  i32Mul: [0x6c],
  i32Eqz: [0x45],
  i32Ne: [0x47],
  i32LtU: [0x49],
  block: [0x02, 0x40],
  loop: [0x03, 0x40],
  if: [0x04, 0x40],
  end: [0x0b],
  br: (depth: number) => [0x0c, ...uleb(depth)],
  brIf: (depth: number) => [0x0d, ...uleb(depth)],
  /** f32.load with a byte offset (alignment hint 4 bytes). */
  f32Load: (offset = 0) => [0x2a, 2, ...uleb(offset)],
  /** v128.load / v128.store with a byte offset (alignment hint 16 bytes). */
  v128Load: (offset = 0) => [0xfd, 0x00, 4, ...uleb(offset)],
  v128Store: (offset = 0) => [0xfd, 0x0b, 4, ...uleb(offset)],
  /** v128.load32_splat: one float from memory into all four lanes. */
  load32Splat: (offset = 0) => [0xfd, 0x09, 2, ...uleb(offset)],
  f32x4Splat: [0xfd, ...uleb(0x13)],
  f32x4Sqrt: [0xfd, ...uleb(0xe3)],
  f32x4Add: [0xfd, ...uleb(0xe4)],
  f32x4Sub: [0xfd, ...uleb(0xe5)],
  f32x4Mul: [0xfd, ...uleb(0xe6)],
  f32x4Div: [0xfd, ...uleb(0xe7)],
  f32x4Max: [0xfd, ...uleb(0xe9)],
};

export interface KernelSpec {
  params: number[];
  /** Extra local variables' types, numbered after the parameters. */
  locals: number[];
  body: number[];
  exportName: string;
}

/**
 * A module importing `env.memory` and exporting one function with no results. The memory
 * import has minimum 0 and no maximum, so any memory fits.
 */
export function moduleBytes(spec: KernelSpec): Uint8Array<ArrayBuffer> {
  const type = [0x60, ...vec(spec.params.map((p) => [p])), 0];
  const locals = vec(spec.locals.map((t) => [1, t]));
  const code = [...locals, ...spec.body, ...op.end];
  return new Uint8Array([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, vec([type])),
    ...section(2, vec([[...str("env"), ...str("memory"), 0x02, 0x00, 0x00]])),
    ...section(3, vec([[0]])),
    ...section(7, vec([[...str(spec.exportName), 0x00, 0]])),
    ...section(10, vec([[...uleb(code.length), ...code]])),
  ]);
}

/** Compiles `spec` against `memory`; undefined when this runtime cannot (no WASM SIMD). */
export function instantiate(
  spec: KernelSpec,
  memory: WebAssembly.Memory,
): ((...args: number[]) => void) | undefined {
  try {
    const module = new WebAssembly.Module(moduleBytes(spec));
    const instance = new WebAssembly.Instance(module, { env: { memory } });
    return instance.exports[spec.exportName] as (...args: number[]) => void;
  } catch {
    return undefined;
  }
}
