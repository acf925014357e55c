/**
 * How every command hands back its result: a readable table on stdout, and with `--json FILE` the
 * same numbers for machines, written atomically. `--json -` puts the JSON on stdout instead of
 * the table, so that stdout stays parseable.
 */
import { constants } from "node:fs";
import { access, stat } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { UsageError } from "../errors.js";
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
  // The file first: if it cannot be written, stdout shows no result that looks like success.
  if (jsonTarget !== undefined) await writeFileAtomic(jsonTarget, [text]);
  process.stdout.write(result.table);
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
