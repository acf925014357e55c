/**
 * How every command hands back its result: a readable table on stdout, and with `--json FILE` the
 * same numbers for machines, written atomically. `--json -` puts the JSON on stdout instead of
 * the table, so that stdout stays parseable.
 */
import { writeFileAtomic } from "./atomic-write.js";

export interface Emittable {
  table: string;
  json: unknown;
}

export async function emitResult(result: Emittable, jsonTarget: string | undefined): Promise<void> {
  const text = JSON.stringify(result.json, null, 2) + "\n";
  if (jsonTarget === "-") {
    process.stdout.write(text);
    return;
  }
  process.stdout.write(result.table);
  if (jsonTarget !== undefined) await writeFileAtomic(jsonTarget, [text]);
}
