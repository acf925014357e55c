/**
 * The CLI's single exit point: parse, run one command, and turn any error into an exit code and
 * one line on stderr (the stack only with --verbose). Commands never exit or print errors.
 */
import { readFileSync } from "node:fs";
import { CommanderError } from "./commander.js";
import { EXIT_BAD_INPUT, EXIT_OK, exitCodeFor } from "../core/errors.js";
import { oneLine } from "../core/text.js";
import { buildProgram, type CliIo } from "./program.js";

export type { CliIo } from "./program.js";

function packageVersion(): string {
  const manifest = JSON.parse(readFileSync(new URL("../../../package.json", import.meta.url), "utf8")) as { version: string };
  return manifest.version;
}

/** Runs `mdetr ARGS...` (without the node and script words) and returns the exit code. */
export async function main(args: readonly string[], io: CliIo): Promise<number> {
  const verbose = args.includes("--verbose");
  const program = await buildProgram(io, { version: packageVersion(), verbose }, args);
  const started = performance.now();
  try {
    await program.parseAsync(args as string[], { from: "user" });
    if (verbose) {
      const seconds = ((performance.now() - started) / 1000).toFixed(2);
      const peakMiB = (process.resourceUsage().maxRSS / 1024).toFixed(0);
      io.stderr.write(`mdetr: finished in ${seconds} s, peak RSS ${peakMiB} MiB\n`);
    }
    return EXIT_OK;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Commander has already printed its message (or the help / version text).
      return error.exitCode === 0 ? EXIT_OK : EXIT_BAD_INPUT;
    }
    // One line, whatever the message holds; the details are for --verbose.
    const message = oneLine(error instanceof Error ? error.message : String(error));
    io.stderr.write(`mdetr: error: ${message}\n`);
    if (verbose && error instanceof Error && error.stack) io.stderr.write(`${error.stack}\n`);
    return exitCodeFor(error);
  }
}
