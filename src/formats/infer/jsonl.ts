/**
 * The `infer` outputs: a JSONL file of one line per image, written as it goes so that `--resume`
 * can continue an interrupted run, and a COCO results list with its images mapping.
 */
import { createWriteStream, type WriteStream } from "node:fs";
import { readFile, truncate } from "node:fs/promises";
import { once } from "node:events";
import { writeFileAtomic } from "../../core/atomic-write.js";

/** Files already in a JSONL output (results and recorded errors); a torn last line is cut off. */
export async function filesAlreadyDone(path: string): Promise<Set<string>> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch {
    return new Set();
  }
  const complete = text.lastIndexOf("\n") + 1;
  if (complete < text.length) await truncate(path, Buffer.byteLength(text.slice(0, complete)));
  // A damaged line names no file: that image is simply done again.
  return new Set(parseJsonLines(text.slice(0, complete)).flatMap((r) => (typeof r["file"] === "string" ? [r["file"]] : [])));
}

/** The object records of JSONL text; blank and damaged lines are skipped. */
function parseJsonLines(text: string): Record<string, unknown>[] {
  const records: Record<string, unknown>[] = [];
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    try {
      const record = JSON.parse(line) as unknown;
      if (record !== null && typeof record === "object" && !Array.isArray(record)) records.push(record as Record<string, unknown>);
    } catch {
      // skipped
    }
  }
  return records;
}

/** Every complete record of a JSONL output, in file order (damaged lines skipped). */
export async function readRecords(path: string): Promise<Record<string, unknown>[]> {
  return parseJsonLines(await readFile(path, "utf8"));
}

export class JsonlWriter {
  private constructor(private readonly out: WriteStream) {}

  static async open(path: string, append: boolean): Promise<JsonlWriter> {
    const out = createWriteStream(path, { flags: append ? "a" : "w" });
    await once(out, "open");
    return new JsonlWriter(out);
  }

  async write(record: unknown): Promise<void> {
    if (!this.out.write(`${JSON.stringify(record)}\n`)) await once(this.out, "drain");
  }

  async close(): Promise<void> {
    this.out.end();
    await once(this.out, "finish");
  }
}

export interface CocoImage {
  id: number;
  file_name: string;
  width: number;
  height: number;
}

export interface CocoDetection {
  image_id: number;
  category_id: number;
  bbox: [number, number, number, number];
  score: number;
}

/** `results.json` (COCO results) and `results.images.json` (id -> file, and the categories). */
export async function writeCocoResults(path: string, images: CocoImage[], detections: CocoDetection[], categories: { id: number; name: string }[]): Promise<string> {
  const mapping = path.replace(/(\.json)?$/i, ".images.json");
  await writeFileAtomic(path, [JSON.stringify(detections)]);
  await writeFileAtomic(mapping, [JSON.stringify({ images, categories })]);
  return mapping;
}
