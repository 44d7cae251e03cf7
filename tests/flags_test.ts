/** The offline tasks' command lines: one line naming the flag and what it accepts, exit 2. */
import assert from "node:assert/strict";
import { flagHelp, parseFlags, UsageError } from "../cli/flags.ts";

const TABLE = {
  jobs: { type: "string", default: "2", accepts: "an integer 1..8" },
  only: { type: "string", accepts: "a comma list of cell names" },
  report: { type: "boolean", default: false, accepts: "only rewrite the reports" },
} as const;

Deno.test("parseFlags fills defaults and reads --flag value and --flag=value", () => {
  assert.deepEqual(parseFlags([], TABLE), { jobs: "2", report: false });
  assert.deepEqual(parseFlags(["--jobs", "4", "--only=a,b", "--report"], TABLE), {
    jobs: "4",
    only: "a,b",
    report: true,
  });
});

Deno.test("parseFlags turns each parse error into one line naming the flag", () => {
  const cases: [string[], string][] = [
    [["--bogus"], "--bogus: unknown flag; accepts --jobs, --only, --report"],
    [["--only"], "--only: needs a value; accepts a comma list of cell names"],
    [["--report=yes"], "--report: takes no value"],
    [["extra"], 'unexpected argument "extra": flags take the form --name value'],
    // A flag where a value should be is a missing value, not the value.
    [["--only", "--report"], "--only: needs a value; accepts a comma list of cell names"],
    [["-x"], "-x: unknown flag; accepts --jobs, --only, --report"],
    [["--constructor"], "--constructor: unknown flag; accepts --jobs, --only, --report"],
  ];
  for (const [args, message] of cases) {
    assert.throws(() => parseFlags(args, TABLE), (err: Error) => {
      assert.ok(err instanceof UsageError);
      assert.equal(err.message, message);
      return true;
    });
  }
});

Deno.test("parseFlags takes negative numbers as values, repeats a multiple flag, and reads a short name", () => {
  const table = {
    ...TABLE,
    model: { type: "string", multiple: true, accepts: "a folder (repeatable)" },
    help: { type: "boolean", short: "h", accepts: "this text" },
  } as const;
  assert.deepEqual(parseFlags(["--jobs", "-3", "--model", "a", "--model=b", "-h"], table), {
    jobs: "-3",
    report: false,
    model: ["a", "b"],
    help: true,
  });
});

Deno.test("flagHelp lists every flag with what it accepts and its default", () => {
  const help = flagHelp("deno task x: does x.", TABLE);
  assert.match(help, /^deno task x: does x\./);
  assert.match(help, /--jobs VALUE\s+an integer 1\.\.8 \(default 2\)/);
  assert.match(help, /--only VALUE\s+a comma list of cell names\n/);
  assert.match(help, /--report\s+only rewrite the reports\n/);
});

async function run(script: string, args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", script, ...args],
    cwd: new URL("..", import.meta.url).pathname,
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
}

Deno.test("deno task study, bench, report, eval and kernels answer a bad flag with one line and exit 2", async () => {
  const cases: [string, string[], string][] = [
    ["eval/study.ts", ["--bogus"], "error: --bogus: unknown flag; accepts --dataset, --jobs"],
    ["eval/study.ts", ["--jobs", "0"], 'error: --jobs: got "0"; accepts an integer 1..8'],
    ["eval/study.ts", ["--dataset", "cifar"], 'error: --dataset: got "cifar"; accepts mnist'],
    ["eval/study.ts", ["--only", "g0-d0,nope"], 'error: --only: got "nope"; accepts cell names'],
    // An empty range used to run nothing and exit 0.
    ["eval/study.ts", ["--seeds", "3-1"], 'error: --seeds: got "3-1"; accepts N or A-B'],
    ["eval/study.ts", ["--seeds", "5-5"], 'error: --seeds: got "5-5", which selects no run'],
    ["train/report.ts", ["--run", "models/nope"], "error: --run: models/nope has no metrics.jsonl"],
    ["train/report.ts", [], "error: --run: required"],
    ["bench/main.ts", ["--only", "x"], 'error: --only: got "x"; accepts serving'],
    // These two used to rebuild the kernels anyway, and to print an OS error, exit 1.
    ["engine/kernels/build.ts", ["--bogus"], "error: --bogus: unknown flag"],
    ["eval/main.ts", ["--model", "models/nope"], "error: --model: models/nope holds no model.json"],
    // Checked before minutes of measuring, so no run is lost to a typo in the path.
    ["bench/main.ts", ["--out", "no/such/dir.md"], 'error: --out: got "no/such/dir.md"; accepts'],
  ];
  for (const [script, args, start] of cases) {
    const { code, stderr } = await run(script, args);
    assert.equal(code, 2, `${script} ${args.join(" ")}: ${stderr}`);
    assert.equal(stderr.trim().split("\n").length, 1, stderr);
    assert.ok(stderr.startsWith(start), stderr);
  }
});
