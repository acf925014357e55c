/**
 * Turns the command definitions into commander commands: parses each option by its spec, checks
 * output targets before any work, runs the command, and prints its result with `meta`.
 */
import { Command, Option } from "./commander.js";
import { InputLog } from "../core/inputs.js";
import { oneLine } from "../core/text.js";
import { streamLogger, type TextSink } from "../core/log.js";
import { progressBars } from "../core/progress.js";
import type { JsonEngine } from "../json/reader.js";
import { COMMANDS, GROUPS, commandOf, loadCommands } from "./commands/index.js";
import { option, type CommandDefinition, type OptionSpec, type RawOption } from "./define.js";
import { buildMeta, checkOutputTarget, emitResult } from "./output.js";
import { parseWholeNumber } from "./options.js";

export interface CliIo {
  stdout: TextSink;
  stderr: TextSink;
  /** The environment (MDETR_JSON_ENGINE, MDETR_JSON_BATCH_BYTES). */
  env: Readonly<Record<string, string | undefined>>;
}

export interface ProgramInfo {
  version: string;
  verbose: boolean;
}

/** The option every command gets: its result as JSON, with `meta`. */
const JSON_OPTION = option.optional("--json <file>", "also write the results, with a meta block, as JSON to FILE ('-': to stdout instead of the table)", { role: "output" });

/** `-o, --output <file>` -> `--output`: how messages name an option. */
function longFlag(spec: OptionSpec<unknown>): string {
  return spec.flags.replace(/^-\w, /, "").split(" ")[0]!;
}

/**
 * The JSON engine and batch size a run reads with: the defaults, unless the environment forces
 * them. The reader's module is loaded only then: it is the command's to load (`--version` and
 * `--help` need none of it).
 */
async function jsonSettings(env: CliIo["env"]): Promise<{ engine?: JsonEngine; batchBytes?: number }> {
  const engine = env["MDETR_JSON_ENGINE"];
  const batch = env["MDETR_JSON_BATCH_BYTES"];
  const engines: readonly string[] = engine ? (await import("../json/reader.js")).JSON_ENGINES : [];
  return {
    ...(engine && engines.includes(engine) ? { engine: engine as JsonEngine } : {}),
    ...(batch ? { batchBytes: parseWholeNumber("MDETR_JSON_BATCH_BYTES", batch, 1) } : {}),
  };
}

function attachCommand(parent: Command, name: string, definition: CommandDefinition, io: CliIo, info: ProgramInfo): void {
  const command = parent.command(name).description(definition.description);
  if (definition.arguments) command.argument(definition.arguments.name, definition.arguments.description);
  const specs: [string, OptionSpec<unknown>][] = Object.entries(definition.options);
  specs.push(["json", JSON_OPTION]);
  const attributes = new Map<string, string>();
  for (const [key, spec] of specs) {
    const commanderOption = new Option(spec.flags, spec.description);
    if (spec.defaultText !== undefined) commanderOption.default(spec.defaultText);
    if (spec.required) commanderOption.makeOptionMandatory();
    command.addOption(commanderOption);
    attributes.set(key, commanderOption.attributeName());
  }
  command.addHelpText("after", definition.help);
  command.action(async (...received: unknown[]) => {
    // commander passes the positional arguments, then the options object, then the command.
    const raw = (received.at(-2) ?? {}) as Record<string, RawOption>;
    const args = definition.arguments ? ([received[0]].flat() as string[]) : [];
    const values: Record<string, unknown> = {};
    for (const [key, spec] of specs) values[key] = spec.parse(raw[attributes.get(key)!], longFlag(spec));
    // Output targets are checked before any work, so that a long run cannot fail at its end.
    for (const [key, spec] of specs) if (spec.role === "output") await checkOutputTarget(longFlag(spec), values[key] as string | undefined);
    const inputs = new InputLog();
    const jsonTarget = values["json"] as string | undefined;
    const result = await definition.run(values as never, args, {
      log: streamLogger(io.stderr, info.verbose),
      progress: progressBars(io.stderr),
      read: { ...(await jsonSettings(io.env)), inputs },
      stdout: io.stdout,
      jsonTarget,
      verbose: info.verbose,
      version: info.version,
    });
    const meta = buildMeta({ definition, specs, values, args, inputs, result, version: info.version });
    await emitResult(result, meta, jsonTarget, io.stdout);
  });
}

/**
 * The program for `args`, built afresh for each run (nothing is shared between runs): the one
 * command they run, or every command (for help, or words that run none).
 */
export async function buildProgram(io: CliIo, info: ProgramInfo, args: readonly string[]): Promise<Command> {
  const wanted = commandOf(args);
  const definitions = await loadCommands(wanted ? [wanted] : COMMANDS);
  const program = new Command("mdetr");
  program
    .description("Vision-language grounding toolkit: MDETR-family evaluation with the reference tools' exact numbers")
    .version(info.version)
    .option("--verbose", "more logging, phase timings, and stack traces on errors")
    .addHelpText(
      "after",
      [
        "",
        "Examples:",
        "  $ mdetr eval refcoco --annotations finetune_refcoco_testA.json --predictions preds.json --match giou",
        "  $ mdetr eval lvis --annotations lvis_v1_minival.json --predictions dets.json --json results.json",
        "  $ mdetr merge-annotations refexp.json gqa.json vg.json -o final_mixed_train.json",
        "  $ mdetr convert lvis --annotations lvis_v1_train.json --fraction 0.1 -o detection_lvis10_train.json",
        "  $ mdetr infer dir photos/ --model mdetr.onnx --text \"a cat next to a remote\" --out preds.jsonl",
        "  $ mdetr <command> --help",
        "",
      ].join("\n"),
    );
  const groups = new Map<string, Command>();
  for (const definition of definitions) {
    const [first, second] = definition.path;
    if (second === undefined) {
      attachCommand(program, first!, definition, io, info);
      continue;
    }
    let group = groups.get(first!);
    if (!group) {
      const spec = GROUPS[first!];
      group = program.command(first!).description(spec?.description ?? first!);
      if (spec) group.addHelpText("after", spec.help);
      groups.set(first!, group);
    }
    attachCommand(group, second, definition, io, info);
  }
  // Every command reports usage errors as one line, through the single exit point (main.ts).
  const configure = (command: Command) => {
    command
      .exitOverride()
      .configureOutput({
        writeOut: (text) => io.stdout.write(text),
        writeErr: (text) => io.stderr.write(text),
        // One line: commander puts its "(Did you mean ...?)" on a line of its own.
        outputError: (text, write) => write(`mdetr: ${oneLine(text.trim())} (see --help)\n`),
      });
    command.commands.forEach(configure);
  };
  configure(program);
  return program;
}
