/**
 * The README's reference tables, generated from the definitions the code runs on: the HTTP
 * routes and parameters (serve/routes.ts, the same source as /openapi.json) and the training
 * flags (train/config.ts, the same source as `--help`). `deno task readme` rewrites the blocks
 * between `<!-- NAME:begin -->` and `<!-- NAME:end -->`; tests/readme_test.ts fails when the
 * README drifts from the code.
 */
import { parseCli } from "../cli/flags.ts";
import { ROUTES } from "../serve/routes.ts";
import { DEFAULTS, FLAGS, formatValue } from "../train/config.ts";

function table(header: string[], rows: string[][]): string {
  const cell = (s: string) => s.replaceAll("|", "\\|");
  return [
    `| ${header.join(" | ")} |`,
    `| ${header.map(() => "---").join(" | ")} |`,
    ...rows.map((r) => `| ${r.map(cell).join(" | ")} |`),
  ].join("\n");
}

/** One row per route: path, what it returns, its parameters. */
export function routesTable(): string {
  return table(
    ["route", "what it returns", "parameters"],
    ROUTES.map((r) => [
      `\`GET ${r.path}\``,
      r.summary,
      Object.keys(r.params).map((p) => `\`${p}\``).join(", ") || "none",
    ]),
  );
}

/** The parameters of one route: name, what it accepts, default, meaning. */
export function paramsTable(path: string): string {
  const route = ROUTES.find((r) => r.path === path);
  if (!route) throw new Error(`no route ${path}`);
  return table(
    ["parameter", "accepts", "default", "meaning"],
    Object.values(route.params).map((p) => [
      `\`${p.name}\``,
      p.accepts,
      p.schema.default === undefined ? "—" : `\`${p.schema.default}\``,
      p.description,
    ]),
  );
}

/** The training flags: flag, default, what it accepts, meaning. */
export function flagsTable(): string {
  return table(
    ["flag", "default", "accepts", "meaning"],
    [
      ...Object.entries(FLAGS).map(([name, spec]) => [
        `\`--${name}\``,
        spec.key === "out"
          ? "`models/<dataset>`"
          : `\`${formatValue(DEFAULTS[spec.key as keyof typeof DEFAULTS])}\``,
        spec.accepts,
        spec.help,
      ]),
      ["`--conditional`", "off", "no value", "class-conditional GAN on MNIST digits"],
      ["`--recipe`", "none", "a name in recipes/", "start from a named setup; later flags win"],
      ["`--resume`", "off", "no value", "continue from `<out>/checkpoint/`"],
    ],
  );
}

/** The recorded metrics (from `deno task eval`) of a shipped model, read from its model.json. */
function metricsOf(name: string): Record<string, unknown> {
  const json = JSON.parse(
    Deno.readTextFileSync(new URL(`../models/${name}/model.json`, import.meta.url)),
  );
  return json.userDefinedMetadata.edgegan.metrics ?? {};
}

/** The quality targets the shipped MNIST generator is held to (10,000 samples). */
const TARGETS: Record<string, string> = {
  classifierScore: "≥ 9.0",
  frechetDistance: "≤ 8",
  precision: "≥ 0.80",
  recall: "≥ 0.60",
};

/** models/mnist against the seed recipe's generator and real data, from their metadata. */
export function qualityTable(): string {
  const after = metricsOf("mnist"), before = metricsOf("mnist-seed");
  const ceiling = after.ceiling as Record<string, number>;
  const rows: [string, string, number][] = [
    ["classifier score (Inception-Score formula, max 10)", "classifierScore", 2],
    ["Fréchet distance on the classifier's 256 features", "frechetDistance", 2],
    ["precision (Kynkäänniemi et al. 2019, k = 3)", "precision", 3],
    ["recall (k = 3)", "recall", 3],
    ["density (Naeem et al. 2020, k = 5)", "density", 3],
    ["coverage (k = 5)", "coverage", 3],
    ["KL of the digit histogram from uniform", "digitKlFromUniform", 4],
  ];
  const fmt = (x: unknown, digits: number) => typeof x === "number" ? x.toFixed(digits) : "—";
  return table(
    ["metric", "`mnist-seed` (before)", "`mnist` (now)", "real data", "target"],
    rows.map(([label, key, digits]) => [
      label,
      fmt(before[key], digits),
      fmt(after[key], digits),
      fmt(ceiling?.[key], digits),
      TARGETS[key] ?? "",
    ]),
  );
}

export const BLOCKS: Record<string, () => string> = {
  routes: routesTable,
  "sample-params": () => paramsTable("/sample"),
  "interpolate-params": () => paramsTable("/interpolate"),
  "train-flags": flagsTable,
  quality: qualityTable,
};

/** `text` with every generated block replaced by its current contents. */
export function withTables(text: string): string {
  let out = text;
  for (const [name, make] of Object.entries(BLOCKS)) {
    const begin = `<!-- ${name}:begin -->`, end = `<!-- ${name}:end -->`;
    const a = out.indexOf(begin), b = out.indexOf(end);
    if (a < 0 || b < a) throw new Error(`README has no ${begin} ... ${end} block`);
    out = `${out.slice(0, a + begin.length)}\n\n${make()}\n\n${out.slice(b)}`;
  }
  return out;
}

if (import.meta.main) {
  parseCli(
    Deno.args,
    "deno task readme: rewrite the README's API, flag and quality tables from the code and models.",
    {},
  );
  const path = new URL("../README.md", import.meta.url);
  const text = await Deno.readTextFile(path);
  const next = withTables(text);
  if (next !== text) {
    await Deno.writeTextFile(path, next);
    // The tables are written plain; deno fmt pads their columns as the checked README has them.
    const fmt = await new Deno.Command("deno", { args: ["fmt", "-q", path.pathname] }).output();
    if (!fmt.success) {
      throw new Error(`deno fmt README.md: ${new TextDecoder().decode(fmt.stderr)}`);
    }
  }
  console.log(next === text ? "README tables are current" : "README tables rewritten");
}
