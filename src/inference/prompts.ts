/**
 * What each image is asked: one --text for all, GLIP-style --phrases, or per-image --queries from
 * a CSV with header `image,text` (an image path relative to the folder, or a glob).
 */
import { existsSync } from "node:fs";
import { isAbsolute, join, normalize } from "node:path";
import { parse } from "csv-parse/sync";
import fg from "fast-glob";
import { InputError, UsageError } from "../core/errors.js";
import { InputLog, readWholeInput } from "../core/inputs.js";
import { codePointLength } from "../compat/python.js";
import { IMAGE_EXTENSIONS } from "./images.js";

const IMAGE_PATTERN = new RegExp(`\\.(${IMAGE_EXTENSIONS.join("|")})$`, "i");

export interface PhrasePrompt {
  text: string;
  /** Each phrase and its [begin, end) in the prompt, for labelling boxes. */
  phrases: { text: string; span: [number, number] }[];
}

/** GLIP's prompt for a list of phrases: "cat. remote control." */
export function phrasePrompt(list: readonly string[]): PhrasePrompt {
  const phrases: PhrasePrompt["phrases"] = [];
  let text = "";
  // Spans count code points, as the tokenizer's offsets do.
  let length = 0;
  for (const phrase of list) {
    if (text) (text += " "), length++;
    const phraseLength = codePointLength(phrase);
    phrases.push({ text: phrase, span: [length, length + phraseLength] });
    text += `${phrase}.`;
    length += phraseLength + 1;
  }
  return { text, phrases };
}

/**
 * image path (relative to the folder) -> text, in the CSV's order; later rows win. The CSV is read
 * once: hashed into `inputs` (under `csvFile`) and parsed from the same bytes.
 */
export async function readQueries(csvFile: string, imagesRoot: string, inputs: InputLog = new InputLog()): Promise<Map<string, string>> {
  const { bytes } = await readWholeInput(csvFile, inputs, (reason) => new UsageError(`--queries ${csvFile}: cannot read: ${reason}`));
  const text = bytes.toString("utf8");
  let rows: Record<string, string>[];
  try {
    rows = parse(text, { columns: true, skip_empty_lines: true, trim: true, bom: true }) as Record<string, string>[];
  } catch (error) {
    throw new InputError(csvFile, undefined, `not a valid CSV: ${(error as Error).message}`);
  }
  if (rows.length === 0) throw new InputError(csvFile, undefined, "no queries: expected a header image,text and a row for each image (or glob)");
  const queries = new Map<string, string>();
  for (const [i, row] of rows.entries()) {
    const where = `line ${i + 2}`;
    const image = row["image"];
    const prompt = row["text"];
    if (image === undefined || prompt === undefined) throw new InputError(csvFile, "header", "expected the columns image,text");
    if (!image || !prompt) throw new InputError(csvFile, where, "expected an image path (or glob) and a text");
    // Paths name files inside the folder, written the way the folder listing writes them.
    const relative = normalize(image).replace(/\\/g, "/");
    if (isAbsolute(relative) || relative === ".." || relative.startsWith("../")) throw new InputError(csvFile, where, `${image} is outside ${imagesRoot}`);
    const matches = fg.isDynamicPattern(relative)
      ? (await fg(relative, { cwd: imagesRoot, onlyFiles: true })).filter((file) => IMAGE_PATTERN.test(file))
      : existsSync(join(imagesRoot, relative))
        ? [relative]
        : [];
    if (matches.length === 0) throw new InputError(csvFile, where, `${image} matches no image in ${imagesRoot}`);
    for (const match of matches) queries.set(match, prompt);
  }
  return queries;
}
