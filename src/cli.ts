/**
 * The CLI's single exit point: parse, run one command, and turn any error into an exit code and
 * one line on stderr (the stack only with --verbose). Commands never call process.exit.
 */
import { readFileSync } from "node:fs";
import { Command, CommanderError } from "commander";
import { registerCommands } from "./commands/index.js";
import { EXIT_BAD_INPUT, EXIT_FAILURE, EXIT_OK, exitCodeFor } from "./errors.js";
import { stderrLogger } from "./util/log.js";

function packageVersion(): string {
  const manifest = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
  return manifest.version;
}

export function buildProgram(): Command {
  const program = new Command("mdetr");
  program
    .description("Vision-language grounding toolkit: MDETR-family evaluation with the reference tools' exact numbers")
    .version(packageVersion())
    .option("--verbose", "more logging, and stack traces on errors")
    .exitOverride()
    .addHelpText(
      "after",
      [
        "",
        "Examples:",
        "  $ mdetr eval refcoco --annotations finetune_refcoco_testA.json --predictions preds.json --match giou",
        "  $ mdetr eval lvis --annotations lvis_v1_minival.json --predictions dets.json --json results.json",
        "  $ mdetr merge-annotations refexp.json gqa.json vg.json -o final_mixed_train.json --stats -",
        "  $ mdetr infer dir photos/ --model mdetr.onnx --text \"a cat next to a remote\" --out preds.jsonl",
        "  $ mdetr <command> --help",
        "",
      ].join("\n"),
    );
  const verbose = () => program.opts()["verbose"] === true;
  registerCommands(program, { log: () => stderrLogger(verbose()), verbose });
  // Subcommands inherit exit handling so that usage errors come back here too, as one line.
  const inherit = (command: Command) => {
    command.exitOverride().configureOutput({ outputError: (text, write) => write(`mdetr: ${text.trim()} (see --help)\n`) });
    command.commands.forEach(inherit);
  };
  inherit(program);
  return program;
}

/** `mdetr ... | head` closes stdout early; that is the reader's choice, not a failure. */
function quietOnClosedStdout(): void {
  process.stdout.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code === "EPIPE") process.exit(EXIT_OK);
    process.stderr.write(`mdetr: error: cannot write to stdout: ${error.code ?? error.message}\n`);
    process.exit(EXIT_FAILURE);
  });
}

export async function main(argv: readonly string[]): Promise<number> {
  quietOnClosedStdout();
  const program = buildProgram();
  const verbose = argv.includes("--verbose");
  const started = performance.now();
  try {
    await program.parseAsync(argv as string[]);
    if (verbose) {
      const seconds = ((performance.now() - started) / 1000).toFixed(2);
      const peakMiB = (process.resourceUsage().maxRSS / 1024).toFixed(0);
      process.stderr.write(`mdetr: finished in ${seconds} s, peak RSS ${peakMiB} MiB\n`);
    }
    return EXIT_OK;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Commander has already printed its message (or the help / version text).
      return error.exitCode === 0 ? EXIT_OK : EXIT_BAD_INPUT;
    }
    // One line, whatever the message holds; the details are for --verbose.
    const message = (error instanceof Error ? error.message : String(error)).replace(/\s*\n\s*/g, " ");
    process.stderr.write(`mdetr: error: ${message}\n`);
    if (verbose && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
    return exitCodeFor(error);
  }
}
