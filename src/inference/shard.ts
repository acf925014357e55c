/** `--shard K/N`: one of N machines' share of a benchmark. */

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
