/**
 * The README's reference tables match the code they describe (regenerate them with
 * `deno task readme`), and the numbers it states about the shipped models are theirs.
 */
import assert from "node:assert/strict";
import { BLOCKS } from "../docs/readme_tables.ts";
import { ROUTES } from "../serve/routes.ts";

const readme = await Deno.readTextFile(new URL("../README.md", import.meta.url));

/** A markdown table without the padding `deno fmt` adds. */
const normal = (table: string) =>
  table.trim().split("\n").map((l) => l.replace(/\s*\|\s*/g, "|").replace(/-{3,}/g, "---"))
    .join("\n");

for (const [name, make] of Object.entries(BLOCKS)) {
  Deno.test(`the README's ${name} table is generated from the code`, () => {
    const begin = `<!-- ${name}:begin -->`, end = `<!-- ${name}:end -->`;
    const a = readme.indexOf(begin), b = readme.indexOf(end);
    assert.ok(a >= 0 && b > a, `README has the ${name} block`);
    assert.equal(
      normal(readme.slice(a + begin.length, b)),
      normal(make()),
      "run `deno task readme`",
    );
  });
}

Deno.test("the README counts the routes the server has", () => {
  const words = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"];
  const claims = [...readme.matchAll(/\b(\w+) read-only GET routes/g)].map((m) => m[1]);
  assert.ok(claims.length > 0, "the security notes count the routes");
  for (const claim of claims) assert.equal(claim, words[ROUTES.length]);
});

Deno.test("the README's JSON example is what the shipped default model answers", async () => {
  const block = readme.match(/The JSON body:\n\n```json\n([\s\S]*?)\n```/);
  assert.ok(block, "README has the JSON example");
  const example = JSON.parse(block[1].replaceAll(", …", ""));
  const { loadRunner } = await import("../engine/runner.ts");
  const { Sampler } = await import("../serve/sampler.ts");
  const { createApp } = await import("../serve/app.ts");
  const sampler = new Sampler(await loadRunner("models/mnist"));
  const app = createApp({ ready: true, sampler });
  const body = await (await app.request(`/sample?n=${example.n}&seed=${example.seed}`)).json();
  assert.deepEqual(Object.keys(example), Object.keys(body));
  for (const [key, value] of Object.entries(example)) {
    if (key !== "samples") assert.deepEqual(body[key], value, key);
  }
  example.samples.forEach((prefix: number[], i: number) =>
    assert.deepEqual(body.samples[i].slice(0, prefix.length), prefix)
  );
});
