import type { Logger } from "../util/log.js";

/** What the CLI hands every command: global flags resolved after parsing. */
export interface CommandContext {
  log(): Logger;
  verbose(): boolean;
}
