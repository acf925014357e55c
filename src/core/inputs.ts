/**
 * What a run read: each input file (or folder) with its size and SHA-256, hashed from the same
 * bytes the readers parse (no second pass over the file), for the `meta` block of every result.
 */
import { createHash, type Hash } from "node:crypto";
import { once } from "node:events";
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";

export interface InputRecord {
  /** As the user named it. */
  path: string;
  bytes: number;
  sha256: string;
  /** For a folder: how many of its files were read (in a fixed order, hashed name and content). */
  files?: number;
  /** For JSON: the engine that read it (split, stream or parse). */
  reader?: string;
}

/** A SHA-256 fed chunk by chunk while a file is read. */
export interface ChunkHash {
  update(chunk: Uint8Array): void;
  /** Starts over (a reader that read part of a file and reads it again from the start). */
  reset(): this;
  digest(): Promise<{ bytes: number; sha256: string }>;
  /** Frees what the hash holds (its thread); safe to call more than once. */
  close(): Promise<void>;
}

/**
 * Files from this size on are hashed on a thread of their own, beside the parser. Below it the
 * thread costs more than it saves: SHA-256 runs at about 1.6 GB/s here (SHA extensions), and
 * handing a chunk to the thread is a copy of about the same cost on the parser's thread, plus the
 * thread's start. Flickr's 35 MiB of test predictions read 30-40 ms faster hashed in line.
 */
export const THREADED_HASH_BYTES = 64 << 20;

/** The hash for a file of `size` bytes: on this thread, or for big files on a worker thread. */
export function hashFor(size: number, threadFrom = THREADED_HASH_BYTES): ChunkHash {
  return size >= threadFrom ? new ThreadedHash() : new ContentHash();
}

function startHashWorker(): import("node:worker_threads").Worker {
  const { Worker } = createRequire(import.meta.url)("node:worker_threads") as typeof import("node:worker_threads");
  return new Worker(new URL("./hash-worker.js", import.meta.url));
}

/**
 * SHA-256 on a worker thread: hashing a 364 MiB file costs a quarter of a second of one core, which
 * the parser, busy on the main thread, need not pay. Chunks are copied to the worker (a memcpy).
 * worker_threads is required when the first one starts: loading it costs every command 4 ms, and
 * most never hash on a thread.
 */
export class ThreadedHash implements ChunkHash {
  private readonly worker = startHashWorker();
  private closed = false;

  update(chunk: Uint8Array): void {
    // Big buffers (the parse engine's whole file) go in slices, so the worker starts at once.
    const slice = 8 << 20;
    for (let start = 0; start < chunk.length; start += slice) this.worker.postMessage(chunk.subarray(start, start + slice));
  }

  reset(): this {
    this.worker.postMessage("reset");
    return this;
  }

  async digest(): Promise<{ bytes: number; sha256: string }> {
    const answer = once(this.worker, "message") as Promise<[{ bytes: number; sha256: string }]>;
    this.worker.postMessage("digest");
    const [digest] = await answer;
    await this.close();
    return digest;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.worker.terminate();
  }
}

/** SHA-256 on this thread: for small files, where a thread would cost more than it saves. */
export class ContentHash implements ChunkHash {
  private hash: Hash = createHash("sha256");
  bytes = 0;

  reset(): this {
    this.hash = createHash("sha256");
    this.bytes = 0;
    return this;
  }

  update(chunk: Uint8Array): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
  }

  async digest(): Promise<{ bytes: number; sha256: string }> {
    return this.digestNow();
  }

  digestNow(): { bytes: number; sha256: string } {
    return { bytes: this.bytes, sha256: this.hash.digest("hex") };
  }

  async close(): Promise<void> {}
}

/**
 * A folder read file by file: each file's relative name and content go into one hash, so the same
 * files with the same contents give the same hash wherever the folder is.
 */
export class FolderHash {
  private readonly hash = new ContentHash();
  files = 0;

  add(relativeName: string, content: Uint8Array): void {
    const name = Buffer.from(relativeName, "utf8");
    const header = Buffer.alloc(12);
    header.writeUInt32BE(name.length, 0);
    header.writeBigUInt64BE(BigInt(content.length), 4);
    this.hash.update(header);
    this.hash.update(name);
    this.hash.update(content);
    this.files++;
  }

  digest(): { bytes: number; sha256: string; files: number } {
    return { ...this.hash.digestNow(), files: this.files };
  }
}

/** The inputs of one run; the first complete read of a path is the one recorded. */
export class InputLog {
  private readonly records = new Map<string, InputRecord>();

  record(entry: InputRecord): void {
    if (!this.records.has(entry.path)) this.records.set(entry.path, entry);
  }

  get(path: string): InputRecord | undefined {
    return this.records.get(path);
  }

}

/**
 * Reads a small input whole (a model, a tokenizer, a CSV), records its size and hash in `inputs`
 * under `path` as the user named it, and returns the bytes and their SHA-256. `failure` turns the
 * reason it could not be read (ENOENT, EISDIR, ...) into the error to throw.
 */
export async function readWholeInput(path: string, inputs: InputLog, failure: (reason: string) => Error): Promise<{ bytes: Buffer; sha256: string }> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw failure((error as NodeJS.ErrnoException).code ?? String(error));
  }
  const hash = new ContentHash();
  hash.update(bytes);
  const { sha256 } = hash.digestNow();
  inputs.record({ path, bytes: bytes.length, sha256 });
  return { bytes, sha256 };
}
