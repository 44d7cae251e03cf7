/**
 * `deno task train`: parse flags, train, save. Errors become one line on stderr:
 * exit 2 for a bad command line, 1 for a failed run; 130/143 after SIGINT/SIGTERM (checkpoint
 * saved).
 */
import { helpText, parseTrainArgs } from "./config.ts";
import { UsageError } from "../cli/flags.ts";
import { runTraining, TrainingError } from "./loop.ts";
import { BackendError } from "../tfjs/backend.ts";
import { CheckpointError } from "./checkpoint.ts";
import { IdxError } from "../datasets/mnist.ts";

async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseTrainArgs(argv);
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`error: ${err.message}`);
      return 2;
    }
    throw err;
  }
  if (parsed.help) {
    console.log(helpText());
    return 0;
  }
  try {
    const result = await runTraining(parsed.config, parsed.explicit);
    if (result.status === "interrupted") return result.signal === "SIGTERM" ? 143 : 130;
    return 0;
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`error: ${err.message}`);
      return 2;
    }
    for (const known of [TrainingError, BackendError, CheckpointError, IdxError]) {
      if (err instanceof known) {
        console.error(`error: ${err.message}`);
        return 1;
      }
    }
    throw err;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
