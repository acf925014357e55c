/** `--shard K/N` (one of N machines' share of a benchmark), and what every benchmark run shares. */
import { join } from "node:path";
import { InputError } from "../core/errors.js";

/** The K-th (from 1) of N contiguous blocks. */
export interface Shard {
  index: number;
  count: number;
}

/** The shard's block of the pictures (already sorted by id): contiguous, sizes differing by at most one. */
export function shardPictures<T>(pictures: readonly T[], shard: Shard | undefined): T[] {
  if (!shard) return [...pictures];
  const from = Math.floor((pictures.length * (shard.index - 1)) / shard.count);
  const to = Math.floor((pictures.length * shard.index) / shard.count);
  return pictures.slice(from, to);
}

/** What a model run over a benchmark takes besides the benchmark's own files. */
export interface BenchmarkRunOptions {
  images: string;
  model: string;
  tokenizer: string;
  scoring: "mdetr" | "sigmoid" | undefined;
  device: "auto" | "cuda" | "webgpu" | "cpu";
  batchSize: number;
  out: string;
  shard: Shard | undefined;
  verbose: boolean;
}

/** A benchmark's picture that cannot be read fails the run (its predictions would be missing). */
export function unreadablePicture(images: string, file: string, error: string): InputError {
  const reason = /ENOENT/.test(error) ? "no such file in --images" : error;
  return new InputError(join(images, file), undefined, `cannot read the picture: ${reason}`);
}
