/** How every command's result reaches the user: table, `--json`, and the `meta` block. */
import { constants } from "node:fs";
import { access, stat } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { UsageError } from "../core/errors.js";
import { writeFileAtomic } from "../core/atomic-write.js";
import type { InputLog } from "../core/inputs.js";
import type { TextSink } from "../core/log.js";
import type { CommandDefinition, CommandResult, OptionSpec } from "./define.js";

/** JSON keys are snake_case, as the reference tools write theirs: `iouThreshold` -> `iou_threshold`. */
export function snakeCase(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

export interface MetaSource {
  definition: CommandDefinition;
  specs: readonly [string, OptionSpec<unknown>][];
  values: Readonly<Record<string, unknown>>;
  args: readonly string[];
  inputs: InputLog;
  result: CommandResult;
  version: string;
}

/**
 * How the numbers were computed: the tool and version, the command and its protocol, every
 * setting that decided them (given or defaulted), and each input with its size and SHA-256.
 */
export function buildMeta(source: MetaSource): Record<string, unknown> {
  const { definition, specs, values, args, inputs, result } = source;
  const describe = (path: string) => inputs.get(path) ?? { path };
  const options: Record<string, unknown> = {};
  const inputFiles: Record<string, unknown> = {};
  if (definition.arguments) {
    const name = snakeCase(definition.arguments.name.replace(/[<>[\].]/g, ""));
    // `<inputs...>` takes a list, `<images>` one value.
    const many = definition.arguments.name.includes("...");
    const first = args[0];
    if (definition.arguments.role === "input") inputFiles[name] = many ? args.map(describe) : first === undefined ? null : describe(first);
    else options[name] = many ? args : (first ?? null);
  }
  for (const [key, spec] of specs) {
    const value = values[key];
    if (spec.role === "setting") options[snakeCase(key)] = jsonSetting(value);
    else if (spec.role === "input" && typeof value === "string") inputFiles[snakeCase(key)] = describe(value);
    // Shards: one file is described as one, several as a list in the order given.
    else if (spec.role === "input" && Array.isArray(value)) inputFiles[snakeCase(key)] = value.length === 1 ? describe(String(value[0])) : value.map((v) => describe(String(v)));
  }
  // Inputs the command found itself (a tokenizer next to the model).
  for (const [name, path] of Object.entries(result.inputs ?? {})) inputFiles[snakeCase(name)] ??= describe(path);
  Object.assign(options, result.settings);
  return { tool: "mdetr", version: source.version, command: definition.path.join(" "), protocol: result.protocol, options, inputs: inputFiles };
}

/** A setting as JSON holds it: a big integer (a seed) as a number when exact, else as its digits. */
function jsonSetting(value: unknown): unknown {
  if (typeof value !== "bigint") return value ?? null;
  return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value.toString();
}

/**
 * A readable table on stdout, and with `--json FILE` the numbers for machines, written
 * atomically, `meta` first. `--json -` puts the JSON on stdout instead of the table.
 */
export async function emitResult(result: CommandResult, meta: Record<string, unknown>, jsonTarget: string | undefined, stdout: TextSink): Promise<void> {
  const text = JSON.stringify({ meta, ...result.json }, null, 2) + "\n";
  if (jsonTarget === "-") {
    stdout.write(text);
    return;
  }
  // The file first: if it cannot be written, stdout shows no result that looks like success.
  if (jsonTarget !== undefined) await writeFileAtomic(jsonTarget, [text]);
  if (result.table) stdout.write(result.table);
}

/** Fails before any heavy work when an output file could not be created. */
export async function checkOutputTarget(option: string, target: string | undefined): Promise<void> {
  if (target === undefined || target === "-") return;
  const folder = dirname(resolve(target));
  const existing = await stat(target).catch(() => undefined);
  if (existing?.isDirectory()) throw new UsageError(`${option} ${target}: is a folder; give a file name`);
  try {
    if (!(await stat(folder)).isDirectory()) throw new UsageError(`${option} ${target}: ${folder} is not a folder`);
    await access(folder, constants.W_OK);
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError(`${option} ${target}: cannot write into ${folder} (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
}
