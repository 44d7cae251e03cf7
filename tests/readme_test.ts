/**
 * The README's reference tables match the code they describe (regenerate them with
 * `deno task readme`), and the numbers it states about the shipped models are theirs.
 */
import assert from "node:assert/strict";
import { BLOCKS } from "../docs/readme_tables.ts";
import { ROUTES } from "../serve/routes.ts";

const readme = await Deno.readTextFile(new URL("../README.md", import.meta.url));

/** A markdown block without the table padding and prose line breaks `deno fmt` adds. */
const normal = (block: string) =>
  block.trim().split("\n").map((l) => l.replace(/\s*\|\s*/g, "|").replace(/-{3,}/g, "---"))
    .join("\n").replace(/([^|\n])\n(?=[^|\n])/g, "$1 ");

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

Deno.test("the README's sample pictures are what their captions' requests return from the shipped models", async () => {
  const { loadRunner } = await import("../engine/runner.ts");
  const { loadPngEncoder, Sampler } = await import("../serve/sampler.ts");
  const { createApp } = await import("../serve/app.ts");
  await loadPngEncoder();
  const names = ["mnist", "mnist-seed", "mnist-cond", "grid25"];
  const app = createApp({
    defaultName: "mnist",
    models: await Promise.all(names.map(async (name) => ({
      name,
      state: { ready: true as const, sampler: new Sampler(await loadRunner(`models/${name}`)) },
    }))),
  });
  const pictures: [string, string][] = [
    ["docs/img/mnist-grid.png", "/sample?n=64&seed=1&format=png&scale=2"],
    ["docs/img/mnist-seed-grid.png", "/sample?model=mnist-seed&n=64&seed=1&format=png&scale=2"],
    ["docs/img/grid25-scatter.png", "/sample?model=grid25&n=256&seed=1&format=png&scale=2"],
    [
      "docs/img/mnist-cond-sevens.png",
      "/sample?model=mnist-cond&label=7&n=16&seed=1&format=png&scale=2",
    ],
    ["docs/img/mnist-cond-grid.png", "/sample?model=mnist-cond&n=64&seed=1&format=png&scale=2"],
  ];
  for (const [file, url] of pictures) {
    assert.ok(readme.includes(file), `the README shows ${file}`);
    const res = await app.request(url);
    assert.equal(res.status, 200, url);
    const served = new Uint8Array(await res.arrayBuffer());
    assert.deepEqual(served, await Deno.readFile(file), `${file} is ${url}`);
  }
  // Each caption names its request (the grid25 and mnist-cond ones spell out model=).
  for (
    const url of [
      "model=grid25&n=256&seed=1&format=png&scale=2",
      "model=mnist-cond&label=7&n=16&seed=1",
    ]
  ) {
    assert.ok(readme.includes(url), url);
  }
});
