/**
 * The README's reference tables, generated from the definitions the code runs on: the HTTP
 * routes and parameters (serve/routes.ts, the same source as /openapi.json) and the training
 * flags (train/config.ts, the same source as `--help`), the shipped model's metrics (its
 * metadata) and the study tables (docs/study-*.json). `deno task readme` rewrites the blocks
 * between `<!-- NAME:begin -->` and `<!-- NAME:end -->`; tests/readme_test.ts fails when the
 * README drifts from the code.
 */
import { parseCli } from "../cli/flags.ts";
import { ROUTES } from "../serve/routes.ts";
import { DEFAULTS, FLAGS, formatValue, SWITCHES } from "../train/config.ts";
import { STUDIES, type StudyResult } from "../eval/study_plans.ts";
import { cellSummary, formatStat } from "../eval/study_common.ts";

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
      ["`--recipe`", "none", "a name in recipes/", "start from a named setup; later flags win"],
      ...Object.entries(SWITCHES).map(([name, help]) => [`\`--${name}\``, "off", "no value", help]),
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

/** The study cell each shipped model was trained as, shown in bold in the study tables. */
const SHIPPED_CELL: Record<string, string> = {
  mnist: "g0.5to0-d0.25to0-sc100",
  grid25: "g0-d0.25-sc100",
};

/** What a reader should know about a cell beyond its flags. */
const CELL_NOTES: Record<string, string> = {
  "mnist/g0.5to0-d0.25": "an earlier default",
  "mnist/g0.5-d0.5": "the seed recipe's rates",
  "mnist/g0.5to0-d0.25-sc30": "the default two versions back",
  "mnist/g0.5to0-d0.25to0-sc50": "the previous default",
  "mnist/g0.5to0-d0.25to0-sc100": "the default now",
  "grid25/g0-d0": "the plain GAN",
  "grid25/g0-d0.25": "the `2d` recipe",
  "grid25/g0-d0.25-sc100": "`models/grid25`",
  "ring8/g0-d0": "the plain GAN",
  "grid25-200k/g0-d0": "the plain GAN",
  "ring8-200k/g0-d0": "the plain GAN",
};

/** "none" for 0, "0.5 → 0" for the schedule "0.5:0", "0.5 → 0.1 (cosine)" with a curve. */
function rateLabel(value = "0"): string {
  const [start, end, curve] = value.split(":");
  if (end === undefined) return Number(start) === 0 ? "none" : start;
  return `${start} → ${end}${curve && curve !== "linear" ? ` (${curve})` : ""}`;
}

/** A cell as a reader names it: G / D dropout, then whatever else its flags change. */
export function cellLabel(flags: string[], withSelfCondition: boolean): string {
  const get = (flag: string) => {
    const i = flags.indexOf(flag);
    return i < 0 ? undefined : flags[i + 1];
  };
  const parts = [`${rateLabel(get("--g-dropout"))} / ${rateLabel(get("--d-dropout"))}`];
  if (get("--ema") === "0") parts.push("no weight average");
  const ensemble = get("--d-ensemble");
  if (ensemble) parts.push(`Dropout-GAN, ${ensemble} Ds (drop ${get("--d-ensemble-drop")})`);
  if (get("--pack")) parts.push(`PacGAN${get("--pack")}`);
  if (get("--latent")) parts.push(`latent ${get("--latent")}`);
  if (get("--g-top-k")) parts.push(`top-k G updates (${get("--g-top-k")})`);
  if ((get("--aux-classifier") ?? "0") !== "0") parts.push("auxiliary classifier");
  const clusters = get("--self-condition") ?? "0";
  if (withSelfCondition && clusters !== "0") parts.push(`self-cond. ${clusters}`);
  return parts.join(", ");
}

/** A study's results by cell, in the plan's cell order. */
function studyRows(dataset: string) {
  const plan = STUDIES[dataset];
  const { results }: { results: StudyResult[] } = JSON.parse(
    Deno.readTextFileSync(new URL(`../${plan.resultsPath}`, import.meta.url)),
  );
  const rows = plan.cells.map((cell) => {
    const runs = results.filter((r) => r.cell === cell.name);
    const s = cellSummary(runs);
    const note = CELL_NOTES[`${dataset}/${cell.name}`];
    return { cell, runs, at: (key: string) => s.at(s.final, key), note };
  }).filter((row) => row.runs.length);
  const skipped = plan.cells.filter((c) => c.skip && !rows.some((r) => r.cell === c)).length;
  const bold = (row: (typeof rows)[number], text: string) =>
    SHIPPED_CELL[dataset] === row.cell.name ? `**${text}**` : text;
  const label = (row: (typeof rows)[number], withSelfCondition: boolean) =>
    bold(
      row,
      cellLabel(row.cell.flags, withSelfCondition) + (row.note ? ` (${row.note})` : ""),
    );
  return { plan, rows, skipped, bold, label };
}

/** The MNIST study at the shipped budget: one row per cell with results. */
export function studyMnistTable(): string {
  const { plan, rows, skipped, bold, label } = studyRows("mnist");
  return [
    `**${rows.length} of ${plan.cells.length} cells have run, ${skipped} are skipped with their ` +
    "reasons in the report; 50,000 steps each; mean ± standard error where a cell has several " +
    "seeds:**",
    "",
    table(
      [
        "cell (G dropout / D dropout)",
        "self-cond.",
        "seeds",
        "Fréchet distance",
        "classifier score",
        "precision",
        "recall",
      ],
      rows.map((row) => {
        const clusters = row.cell.flags[row.cell.flags.indexOf("--self-condition") + 1];
        return [
          label(row, false),
          clusters === "0" ? "off" : clusters,
          String(row.runs.length),
          ...[["frechetDistance", 2], ["classifierScore", 2], ["precision", 3], ["recall", 3]]
            .map(([key, digits]) => bold(row, formatStat(row.at(key as string), digits as number))),
        ];
      }),
    ),
  ].join("\n");
}

/** A 2-D study (PacGAN's protocol on 2,500 samples): one row per cell with results. */
export function study2dTable(dataset: "grid25" | "ring8", modes: number): string {
  const { plan, rows, bold, label } = studyRows(dataset);
  const high = (row: (typeof rows)[number]) => {
    const x = row.at("highQuality");
    return { ...x, mean: 100 * x.mean, se: 100 * x.se };
  };
  return [
    `**${dataset}: ${rows.length} of ${plan.cells.length} cells have run; mean ± standard ` +
    "error where a cell has several seeds:**",
    "",
    table(
      [
        `${dataset} cell (G / D dropout)`,
        "seeds",
        `modes (of ${modes})`,
        "high-quality %",
        "reverse KL",
      ],
      rows.map((row) => [
        label(row, true),
        String(row.runs.length),
        bold(row, formatStat(row.at("modes"), 1)),
        bold(row, formatStat(high(row), 1)),
        bold(row, formatStat(row.at("reverseKl"), 3)),
      ]),
    ),
  ].join("\n");
}

/**
 * The 2-D cells at the converged budget (200,000 steps), beside the same cell's final at the
 * 50,000-step study's budget.
 */
export function studyLongTable(): string {
  const minutes: number[] = [];
  const body = (["grid25", "ring8"] as const).flatMap((dataset) => {
    const { rows, label } = studyRows(`${dataset}-200k`);
    minutes.push(...rows.flatMap((row) => row.runs.map((r) => r.wallTimeS / 60)));
    const short = studyRows(dataset).rows;
    return rows.map((row) => {
      const at50k = short.find((r) => r.cell.name === row.cell.name);
      const pair = (key: string, digits: number, scale = 1) => {
        const x = row.at(key);
        const y = at50k?.at(key);
        return `${formatStat({ ...x, mean: scale * x.mean, se: scale * x.se }, digits)} (${
          y ? (scale * y.mean).toFixed(digits) : "—"
        })`;
      };
      return [
        dataset,
        label(row, false),
        String(row.runs.length),
        pair("modes", 1),
        pair("highQuality", 1, 100),
        pair("reverseKl", 3),
      ];
    });
  });
  if (!body.length) return "**No 2-D cell has run at 200,000 steps yet.**";
  return [
    "**The 2-D cells at 200,000 steps, mean ± standard error over seeds (in brackets: the same " +
    `cell at 50,000 steps, mean over its seeds); a run took ${Math.round(Math.min(...minutes))}–${
      Math.round(Math.max(...minutes))
    } minutes of wall time here, with whatever else shared the cores:**`,
    "",
    table(
      ["dataset", "cell (G / D dropout)", "seeds", "modes", "high-quality %", "reverse KL"],
      body,
    ),
  ].join("\n");
}

/** The targets the issues set for bench rows, by the row's measurement as bench/main.ts names it. */
const BENCH_TARGETS: Record<string, string> = {
  "GET /healthz": "≥ 0.7× the bare app",
  "GET /sample?n=1&seed=42 (JSON, repeated seed)": "≥ 0.4× the bare app",
  "GET /sample?n=1&seed=<new each time> (JSON)": "≥ 0.4× the bare app",
  'spawn to first 200: bare Hono "ok"': "edgegan ≤ 1.5×",
};

/**
 * The rows of `groups` from a table `deno task bench` wrote (bench/RESULTS*.md), with the run's
 * command, date and machine, so the README shows exactly what the file holds.
 */
export function benchTable(file: string, groups: string[]): string {
  const text = Deno.readTextFileSync(new URL(`../${file}`, import.meta.url));
  const line = (prefix: string) =>
    text.split("\n").find((l) => l.startsWith(prefix))?.slice(prefix.length).trim() ?? "?";
  const command = text.match(/Produced by `([^`]+)`/)?.[1] ?? "?";
  const rows = text.split("\n").filter((l) => l.startsWith("| ") && !l.startsWith("| group"))
    .map((l) => l.slice(2, -2).split(" | "))
    .filter(([group]) => groups.includes(group));
  if (!rows.length) throw new Error(`${file} has no rows of ${groups.join(", ")}`);
  const withTargets = rows.some(([, what]) => what in BENCH_TARGETS);
  for (const what of Object.keys(BENCH_TARGETS)) {
    if (withTargets && !rows.some((r) => r[1] === what)) {
      throw new Error(`${file} has no row "${what}" (a target in docs/readme_tables.ts)`);
    }
  }
  return [
    `_From [${file}](${file}): \`${command}\`, ${line("- Date:")}; ${line("- Machine:")}; Deno ${
      line("- Deno")
    }._`,
    "",
    table(
      ["measurement", "result", "notes", ...(withTargets ? ["target"] : [])],
      rows.map(([, what, result, notes]) => [
        what,
        result,
        notes ?? "",
        ...(withTargets ? [BENCH_TARGETS[what] ?? ""] : []),
      ]),
    ),
  ].join("\n");
}

export const BLOCKS: Record<string, () => string> = {
  routes: routesTable,
  "sample-params": () => paramsTable("/sample"),
  "interpolate-params": () => paramsTable("/interpolate"),
  "train-flags": flagsTable,
  quality: qualityTable,
  "study-mnist": studyMnistTable,
  "study-grid25": () => study2dTable("grid25", 25),
  "study-ring8": () => study2dTable("ring8", 8),
  "study-200k": studyLongTable,
  bench: () => benchTable("bench/RESULTS.md", ["gemm", "train"]),
  "bench-serving": () => benchTable("bench/RESULTS-serving.md", ["serve", "start"]),
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
    "deno task readme: rewrite the README's API, flag, quality, study and bench tables from the code, models, study results and bench/RESULTS*.md.",
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
