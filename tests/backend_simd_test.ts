import assert from "node:assert/strict";

Deno.test("asking for wasm without SIMD fails with a clear message, not a slow fallback", async () => {
  const script = `
    import * as tf from "@tensorflow/tfjs-core";
    import "@tensorflow/tfjs-backend-wasm";
    import { initBackend } from "./tfjs/backend.ts";
    tf.env().set("WASM_HAS_SIMD_SUPPORT", false);
    try { await initBackend("wasm"); console.log("started"); } catch (e) { console.log(e.name + ": " + e.message); }
  `;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--ext=ts", script],
    cwd: new URL("..", import.meta.url).pathname,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const text = new TextDecoder().decode(out.stdout).trim();
  assert.equal(
    text,
    "BackendError: WASM SIMD is not available in this runtime; use Deno 2 (V8 with SIMD) or pass --backend cpu",
  );
});
