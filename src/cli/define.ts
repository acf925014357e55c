/**
 * Declarative, typed command definitions. A command names its options once, each with how its
 * text is parsed and checked; `run` receives the typed values and returns data, which the CLI
 * prints (table, `--json`) with a `meta` block naming every option that decided the numbers.
 * Modelled on unjs/citty (definitions as data) and changesets (commands return data; one exit).
 */
import type { TextSink } from "../core/log.js";
import type { RunContext } from "../json/run-context.js";
import { parseChoice, parseKList, parseNumberIn, parsePhraseList, parseWholeNumber } from "./options.js";

/**
 * What an option is to `meta`: an input file (recorded with its size and hash), an output target
 * (checked before the work starts, left out of `meta`), a setting (recorded as it was given or
 * defaulted), or a behaviour that decides no number (left out of `meta`).
 */
export type OptionRole = "input" | "output" | "setting" | "behaviour";

export interface OptionSpec<T> {
  /** Commander's flag text: `--iou-threshold <t>`, `-o, --output <file>`, `--merged`. */
  flags: string;
  description: string;
  role: OptionRole;
  required: boolean;
  /** Shown in --help and used when the option is not given (as text, parsed like user input). */
  defaultText?: string;
  /** Turns commander's raw value (string, a list for `<files...>`, true, or undefined) into the typed value. */
  parse(raw: RawOption, flag: string): T;
}

type Parsed<O> = O extends OptionSpec<infer T> ? T : never;
export type OptionSet = Record<string, OptionSpec<unknown>>;
export type OptionValues<S extends OptionSet> = { [K in keyof S]: Parsed<S[K]> };

/** What commander hands over for an option. */
export type RawOption = string | string[] | boolean | undefined;

const text = (raw: RawOption) => (typeof raw === "string" ? raw : undefined);

interface Common {
  role?: OptionRole;
}

/** The option builders: each says how its value is parsed, so `run` gets typed values. */
export const option = {
  /** A required string (a file name, a prompt). */
  required(flags: string, description: string, extra: Common = {}): OptionSpec<string> {
    return { flags, description, role: extra.role ?? "setting", required: true, parse: (raw) => String(raw) };
  },
  /**
   * One or more files (`--predictions a.json b.json`, or the option repeated): shards of one set
   * of predictions, read in the order given.
   */
  files(flags: string, description: string): OptionSpec<string[]> {
    return { flags, description, role: "input", required: true, parse: (raw) => [raw ?? []].flat().map(String) };
  },
  /** An optional string: undefined when not given. */
  optional(flags: string, description: string, extra: Common = {}): OptionSpec<string | undefined> {
    return { flags, description, role: extra.role ?? "setting", required: false, parse: text };
  },
  /** A string with a default, checked by the command (when its rule depends on other options). */
  text(flags: string, description: string, defaultText: string, extra: Common = {}): OptionSpec<string> {
    return { flags, description, role: extra.role ?? "setting", required: false, defaultText, parse: (raw) => String(raw) };
  },
  /** An on/off switch. */
  flag(flags: string, description: string, extra: Common = {}): OptionSpec<boolean> {
    return { flags, description, role: extra.role ?? "setting", required: false, parse: (raw) => raw === true };
  },
  /** A number in [min, max], whole when `integer`. */
  number(flags: string, description: string, spec: { default: number; min: number; max?: number; integer?: boolean } & Common): OptionSpec<number> {
    const { min, max = Number.MAX_SAFE_INTEGER } = spec;
    return {
      flags,
      description,
      role: spec.role ?? "setting",
      required: false,
      defaultText: String(spec.default),
      parse: (raw, flag) => (spec.integer ? parseWholeNumber(flag, String(raw), min, max) : parseNumberIn(flag, String(raw), min, max)),
    };
  },
  /** One of a fixed list; with a default, never undefined. */
  choice<const C extends string>(flags: string, description: string, choices: readonly C[], defaultValue: C, extra: Common = {}): OptionSpec<C> {
    return { flags, description, role: extra.role ?? "setting", required: false, defaultText: defaultValue, parse: (raw, flag) => parseChoice(flag, String(raw), choices) };
  },
  /** One of a fixed list, or undefined when not given (the command decides the default). */
  optionalChoice<const C extends string>(flags: string, description: string, choices: readonly C[], extra: Common = {}): OptionSpec<C | undefined> {
    return { flags, description, role: extra.role ?? "setting", required: false, parse: (raw, flag) => (raw === undefined ? undefined : parseChoice(flag, String(raw), choices)) };
  },
  /** A value with its own parser (which throws UsageError naming the option), and a default. */
  parsed<T>(flags: string, description: string, defaultText: string, parse: (flag: string, text: string) => T, extra: Common = {}): OptionSpec<T> {
    return { flags, description, role: extra.role ?? "setting", required: false, defaultText, parse: (raw, flag) => parse(flag, String(raw)) };
  },
  /** Ranks `1,5,10`: distinct positive integers, ascending. */
  ranks(flags: string, description: string, defaultText: string): OptionSpec<number[]> {
    return { flags, description, role: "setting", required: false, defaultText, parse: (raw, flag) => parseKList(flag, String(raw)) };
  },
  /** `"cat, remote control"`: phrases, trimmed, none empty; undefined when not given. */
  phrases(flags: string, description: string): OptionSpec<string[] | undefined> {
    return { flags, description, role: "setting", required: false, parse: (raw, flag) => (raw === undefined ? undefined : parsePhraseList(flag, String(raw))) };
  },
};

/** Everything a command's `run` gets besides its options. */
export interface CommandContext extends RunContext {
  /** Where streamed results go (`--out -`, per-image lines); tables are returned, not written. */
  stdout: TextSink;
  /** `--json`'s target: `-` means stdout belongs to the JSON. */
  jsonTarget: string | undefined;
  verbose: boolean;
  /** mdetr's version (for headers a command writes itself). */
  version: string;
}

/** What a command hands back; the CLI prints it. */
export interface CommandResult {
  /** For people: printed on stdout, unless `--json -` takes stdout. Empty: nothing printed. */
  table: string;
  /** For machines: the numbers, under the keys the reference tools use; `meta` is added first. */
  json: Record<string, unknown>;
  /** The protocol or variant that produced the numbers, in words (also the table's title). */
  protocol: string;
  /** Settings decided at run time rather than by an option (e.g. the scoring a model implies). */
  settings?: Record<string, unknown>;
  /** Input files the command resolved itself (option name -> path), e.g. a default tokenizer. */
  inputs?: Record<string, string>;
}

export interface CommandDefinition<S extends OptionSet = OptionSet> {
  /** `["eval", "refcoco"]`: the words that name the command. */
  path: readonly string[];
  description: string;
  /** Positional arguments, e.g. `<inputs...>`; their values arrive as `args`. */
  arguments?: { name: string; description: string; role: "input" | "setting" };
  options: S;
  /** Help text after the options: protocols, formats, and an `Examples:` section. */
  help: string;
  run(options: OptionValues<S>, args: string[], context: CommandContext): Promise<CommandResult>;
}

/** Keeps the option set's types for `run` (the registry stores definitions without them). */
export function defineCommand<S extends OptionSet>(definition: CommandDefinition<S>): CommandDefinition {
  return definition as unknown as CommandDefinition;
}
