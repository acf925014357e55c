/** What every workflow (evaluation, merge, inference) gets from the CLI: where to log, how to read. */
import type { InputLog } from "../core/inputs.js";
import type { Logger } from "../core/log.js";
import type { ProgressFactory } from "../core/progress.js";
import type { JsonReadSettings } from "./reader.js";

export interface RunContext {
  log: Logger;
  /** Progress bars (drawn only on a terminal). */
  progress: ProgressFactory;
  /** JSON reading settings; `inputs` collects every file read, for the result's `meta`. */
  read: JsonReadSettings & { inputs: InputLog };
}
