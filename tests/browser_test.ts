/// <reference lib="dom" />
/**
 * The page in a real headless Chromium (Debian's chromium package, driven by playwright-core).
 * .ci/run installs Chromium; where it is missing these tests are skipped with a message.
 */
import assert from "node:assert/strict";
import { chromium } from "playwright-core";
import { startServer } from "./helpers.ts";

const CHROMIUM = "/usr/bin/chromium";
const available = await Deno.stat(CHROMIUM).then(() => true, () => false);
if (!available) {
  console.warn(`browser tests skipped: ${CHROMIUM} not found (apt-get install chromium)`);
}

Deno.test({
  name:
    "the page works in Chromium: grid decodes, new samples change it, the permalink reproduces it",
  ignore: !available,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const server = await startServer();
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    });
    const shots = await Deno.makeTempDir({ prefix: "edgegan-browser-" });
    try {
      const page = await browser.newPage({ viewport: { width: 900, height: 1400 } });
      const problems: string[] = [];
      page.on("console", (m) => {
        if (m.type() === "error" || m.type() === "warning") {
          problems.push(`${m.type()}: ${m.text()}`);
        }
      });
      page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
      page.on("requestfailed", (r) => problems.push(`request failed: ${r.url()}`));

      const imageState = () =>
        page.evaluate(() =>
          ["grid", "walk"].map((id) => {
            const img = document.getElementById(id) as HTMLImageElement;
            return {
              src: img.src,
              complete: img.complete,
              width: img.naturalWidth,
              height: img.naturalHeight,
            };
          })
        );
      // The page's CSP allows no fetches from scripts, so the test downloads the image itself.
      const gridBytes = async () => {
        const src = await page.getAttribute("#grid", "src");
        return new Uint8Array(await (await fetch(new URL(src!, server.base))).arrayBuffer());
      };

      await page.goto(`${server.base}/`, { waitUntil: "load" });
      const [grid, walk] = await imageState();
      assert.ok(
        grid.complete && grid.width === 448 && grid.height === 448,
        `grid ${JSON.stringify(grid)}`,
      );
      assert.ok(
        walk.complete && walk.width === 8 * 56 && walk.height === 56,
        `walk ${JSON.stringify(walk)}`,
      );
      const seed = await page.textContent("#seed");
      assert.match(seed!, /^\d+$/);
      await page.screenshot({ path: `${shots}/page.png`, fullPage: true });
      const firstBytes = await gridBytes();

      await page.click("#new");
      await page.waitForLoadState("load");
      const newSeed = await page.textContent("#seed");
      assert.notEqual(newSeed, seed, "new samples draw a new seed");
      const [newGrid] = await imageState();
      assert.notEqual(newGrid.src, grid.src);
      assert.ok(newGrid.complete && newGrid.width === 448);

      await page.goto(`${server.base}/?seed=${seed}`, { waitUntil: "load" });
      assert.equal(await page.textContent("#seed"), seed);
      assert.deepEqual(
        await gridBytes(),
        firstBytes,
        "the permalink shows the same image, byte for byte",
      );

      await page.fill("#seed-input", "12345");
      await page.click("button[type=submit]");
      await page.waitForLoadState("load");
      assert.equal(await page.textContent("#seed"), "12345");
      assert.ok(page.url().endsWith("/?seed=12345"));

      assert.deepEqual(problems, [], "no console errors, warnings or failed requests");
      const shot = await Deno.stat(`${shots}/page.png`);
      assert.ok(shot.size > 10_000, "screenshot written");
    } finally {
      await browser.close();
      await server.stop();
      await Deno.remove(shots, { recursive: true });
    }
  },
});
