/**
 * commander, required rather than imported: it is CommonJS, and an `import` makes Node's ESM loader
 * first scan its sources for named exports (21-25 ms of start-up here against 13-14 ms required),
 * paid by every command before it reads a byte.
 */
import { createRequire } from "node:module";

const commander = createRequire(import.meta.url)("commander") as typeof import("commander");

export const { Command, Option, CommanderError } = commander;
export type Command = import("commander").Command;
export type Option = import("commander").Option;
export type CommanderError = import("commander").CommanderError;
