import assert from "node:assert/strict";
import { chartSvg, parseMetrics, writeReport } from "../train/report.ts";
import { initBackend } from "../tfjs/backend.ts";
import { tempDir, trainTinyModel } from "./helpers.ts";

await initBackend("wasm");

const RECORDS = parseMetrics(
  Array.from(
    { length: 20 },
    (_, i) =>
      JSON.stringify({
        step: (i + 1) * 100,
        dLoss: 1.2,
        gLoss: 0.9 + i / 100,
        dReal: 0.6,
        dFake: 0.4,
      }),
  ).join("\n"),
);

Deno.test("the training chart draws both panels as SVG with the series' colours", () => {
  const svg = chartSvg(RECORDS);
  assert.match(svg, /^<svg /);
  assert.equal((svg.match(/<path /g) ?? []).length, 4, "D loss, G loss, D(x), D(G(z))");
  assert.match(svg, />2K</, "step axis labels");
  for (const color of ["37,99,235", "220,38,38", "22,163,74", "234,88,12"]) {
    assert.ok(svg.includes(`rgb(${color})`), color);
  }
});

Deno.test("a finished run writes its report: the SVG chart and an index listing the sample grids", async (t) => {
  const dir = await tempDir(t);
  try {
    await trainTinyModel(`${dir}/m`, { steps: 20, sampleEvery: 10, logEvery: 5 });
    for (const f of ["training.svg", "index.md"]) {
      await Deno.stat(`${dir}/m/report/${f}`);
    }
    const index = await Deno.readTextFile(`${dir}/m/report/index.md`);
    assert.match(index, /step-0000010\.png[\s\S]*step-0000020\.png/);
    // On demand, again, after an evaluation adds metrics.
    const json = JSON.parse(await Deno.readTextFile(`${dir}/m/model.json`));
    json.userDefinedMetadata.edgegan.metrics = { frechetDistance: 12.5 };
    await Deno.writeTextFile(`${dir}/m/model.json`, JSON.stringify(json));
    await writeReport(`${dir}/m`);
    assert.match(
      await Deno.readTextFile(`${dir}/m/report/index.md`),
      /\| frechetDistance \| 12\.5 \|/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
