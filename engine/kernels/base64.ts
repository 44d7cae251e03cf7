/** Base64 for the kernels' bytes (no Deno std here: JSR is out of reach). */

export function encodeBase64(bytes: Uint8Array): string {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}

export function decodeBase64(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(text);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

/**
 * Compiles a kernel against `memory` (imported as env.memory); undefined when this runtime
 * cannot (no WASM SIMD).
 */
export function instantiateKernel(
  base64: string,
  memory: WebAssembly.Memory,
): WebAssembly.Exports | undefined {
  try {
    const module = new WebAssembly.Module(decodeBase64(base64));
    return new WebAssembly.Instance(module, { env: { memory } }).exports;
  } catch {
    return undefined;
  }
}
