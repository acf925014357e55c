/**
 * The progress of a long benchmark run (`infer refcoco | flickr30k --resume`), kept beside its
 * output as JSON lines: a header with the settings that decide the numbers, then one line per
 * finished item (`{"key", "value"}`). A rerun with `--resume` checks the settings (as `infer dir
 * --resume` does), skips the items already there and appends; the finished run writes its output
 * and removes the log. Without `--resume` a stale log is started over.
 */
import { readFile, rm, truncate } from "node:fs/promises";
import { InputError, UsageError } from "../../core/errors.js";
import { isRecord } from "../../json/validate.js";
import { JsonlWriter, settingsDifferences } from "./jsonl.js";

export class ProgressLog {
  private constructor(
    readonly path: string,
    private readonly writer: JsonlWriter,
    /** The items an earlier run finished, by key. */
    readonly done: ReadonlyMap<string, unknown>,
    /** Without --resume: the finished items of an earlier log, started over. */
    readonly discarded: number,
  ) {}

  /** The log of `output`: its path is `<output>.progress.jsonl`. */
  static pathFor(output: string): string {
    return `${output}.progress.jsonl`;
  }

  /**
   * Opens the log of `output` for this run. With `resume`, an earlier log of the same settings is
   * continued (its finished items in `done`); without, an earlier log is started over, and
   * `discarded` says how many finished items it had (for a warning).
   */
  static async open(output: string, settings: Record<string, unknown>, resume: boolean): Promise<ProgressLog> {
    const path = ProgressLog.pathFor(output);
    const done = new Map<string, unknown>();
    const text = await readFile(path, "utf8").catch((error: NodeJS.ErrnoException) => {
      if (error.code === "ENOENT") return undefined;
      throw error;
    });
    // A last line without its newline was torn by an interrupted run.
    const complete = text === undefined ? "" : text.slice(0, text.lastIndexOf("\n") + 1);
    const lines = complete.split("\n").filter(Boolean);
    if (!resume) {
      const writer = await JsonlWriter.open(path, false);
      await writer.write({ header: settings });
      return new ProgressLog(path, writer, done, Math.max(0, lines.length - 1));
    }
    if (lines.length > 0) {
      const parse = (line: string, n: number): unknown => {
        try {
          return JSON.parse(line);
        } catch {
          throw new InputError(path, `line ${n + 1}`, "not valid JSON: remove the file to start over");
        }
      };
      const header = parse(lines[0]!, 0);
      const earlier = isRecord(header) && isRecord(header["header"]) ? header["header"] : undefined;
      if (!earlier) throw new InputError(path, "line 1", "expected the header with the run's settings: remove the file to start over");
      const differences = settingsDifferences(earlier, settings);
      if (differences.length > 0) throw new UsageError(`--resume: ${path} was made with other settings: ${differences.join("; ")} (remove it, or drop --resume to start over)`);
      lines.slice(1).forEach((line, i) => {
        const record = parse(line, i + 1);
        if (!isRecord(record) || typeof record["key"] !== "string" || !("value" in record)) throw new InputError(path, `line ${i + 2}`, 'expected {"key", "value"}: remove the file to start over');
        done.set(record["key"], record["value"]);
      });
    }
    // Only now, with the log accepted: cut a torn last line, so appended lines start on their own.
    if (text !== undefined && complete.length < text.length) await truncate(path, Buffer.byteLength(complete));
    const writer = await JsonlWriter.open(path, lines.length > 0);
    if (lines.length === 0) await writer.write({ header: settings });
    return new ProgressLog(path, writer, done, 0);
  }

  async record(key: string, value: unknown): Promise<void> {
    await this.writer.write({ key, value });
  }

  /** After the output is written: the log has served. */
  async finish(): Promise<void> {
    await this.writer.close();
    await rm(this.path, { force: true });
  }

  /** After a failure: the log stays for --resume. */
  async close(): Promise<void> {
    await this.writer.close();
  }
}
