/**
 * Predictions may come in several files, the shards of one run (`infer --shard K/N` on many
 * machines), read in the order given. Each item (an expression, an image, a sentence) may be in one
 * file only: the same item in two files means a shard given twice or shards that overlap, and
 * silently keeping either would change the numbers.
 */
import { InputError, UsageError } from "../core/errors.js";

/** Which file first held each item; `claim` fails when a second file holds it too. */
export class ShardOwners<K> {
  private readonly owner = new Map<K, number>();

  constructor(private readonly files: readonly string[]) {
    const twice = files.find((file, i) => files.indexOf(file) !== i);
    if (twice !== undefined) throw new UsageError(`--predictions: ${twice} is given twice`);
  }

  /** `file` (an index into files) holds `item`; `name` says what it is for the message. */
  claim(item: K, file: number, name: (item: K) => string): void {
    // One file: nothing to overlap with (a repeat within a file is the caller's rule).
    if (this.files.length === 1) return;
    const first = this.owner.get(item);
    if (first === undefined) this.owner.set(item, file);
    else if (first !== file) {
      throw new InputError(this.files[file]!, undefined, `${name(item)} is also in ${this.files[first]}: each one may be in one predictions file only (a shard given twice, or shards that overlap?)`);
    }
  }
}

/** The files, for a message about all of them at once (what is missing from the union). */
export function shardLabel(files: readonly string[]): string {
  return files.length === 1 ? files[0]! : `${files[0]} (and ${files.length - 1} more predictions file${files.length > 2 ? "s" : ""})`;
}
