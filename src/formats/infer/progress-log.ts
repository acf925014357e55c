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
  ) {}

  /** The log of `output`: its path is `<output>.progress.jsonl`. */
  static pathFor(output: string): string {
    return `${output}.progress.jsonl`;
  }

  static async open(output: string, settings: Record<string, unknown>, resume: boolean): Promise<ProgressLog> {
    const path = ProgressLog.pathFor(output);
    const done = new Map<string, unknown>();
    let append = false;
    if (resume) {
      const text = await readFile(path, "utf8").catch((error: NodeJS.ErrnoException) => {
        if (error.code === "ENOENT") return undefined;
        throw error;
      });
      if (text !== undefined && text.length > 0) {
        // A last line without its newline was torn by an interrupted run: cut it off.
        const complete = text.slice(0, text.lastIndexOf("\n") + 1);
        if (complete.length < text.length) await truncate(path, Buffer.byteLength(complete));
        const lines = complete.split("\n").filter(Boolean);
        const parse = (line: string, n: number): unknown => {
          try {
            return JSON.parse(line);
          } catch {
            throw new InputError(path, `line ${n + 1}`, "not valid JSON: remove the file to start over");
          }
        };
        const header = lines.length > 0 ? parse(lines[0]!, 0) : undefined;
        const earlier = isRecord(header) && isRecord(header["header"]) ? header["header"] : undefined;
        if (!earlier) throw new InputError(path, "line 1", "expected the header with the run's settings: remove the file to start over");
        const differences = settingsDifferences(earlier, settings);
        if (differences.length > 0) throw new UsageError(`--resume: ${path} was made with other settings: ${differences.join("; ")} (remove it, or drop --resume to start over)`);
        lines.slice(1).forEach((line, i) => {
          const record = parse(line, i + 1);
          if (!isRecord(record) || typeof record["key"] !== "string" || !("value" in record)) throw new InputError(path, `line ${i + 2}`, 'expected {"key", "value"}: remove the file to start over');
          done.set(record["key"], record["value"]);
        });
        append = true;
      }
    }
    const writer = await JsonlWriter.open(path, append);
    if (!append) await writer.write({ header: settings });
    return new ProgressLog(path, writer, done);
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
